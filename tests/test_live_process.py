"""``live`` as a separate process: kill -9 mid-recording, keys on a terminal, a full disk.

The variants are built once in this process. Each child process loads them from the
shared cache and reads frames from an MJPEG server or an image sequence.
"""

from __future__ import annotations

import itertools
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from harness.capture.session import (
    FRAMES_FILE,
    EndReason,
    Phase,
    Session,
    read_segment,
    read_session,
)
from tests.live_helpers import (
    MjpegStream,
    Pose,
    draw_sheet,
    jpeg,
    live_command,
    noise_patch,
    render_view,
    serve_mjpeg,
    write_sequence,
)

torch.set_num_threads(1)

REPOSITORY = Path(__file__).resolve().parents[1]
WAIT_S = 120.0
"""Maximum wait for a child process to reach a state, in s, generous for a loaded machine."""


@pytest.fixture(scope="module")
def frames() -> list[NDArray[np.uint8]]:
    """30 frames of the patch turning from -15 to 14 degrees yaw (BGR)."""
    sheet, marker_frame, origin = draw_sheet(noise_patch(), 100.0)
    poses = [Pose(yaw_deg=yaw, distance_mm=350.0) for yaw in range(-15, 15)]
    return [render_view(sheet, marker_frame, origin, pose) for pose in poses]


@pytest.fixture(scope="module")
def built_cache(
    frames: list[NDArray[np.uint8]],
    variant_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The variant cache after one short in-process run, so children only load variants."""
    folder = tmp_path_factory.mktemp("warm")
    pattern = write_sequence(folder / "frames", frames[:2])
    args = [*live_args(pattern, variant_cache, folder / "captures"), "--no-record"]
    from harness.cli import main

    assert main(args) == 0
    return variant_cache


def live_args(source: str, cache: Path, captures: Path) -> list[str]:
    return live_command(source, cache=cache, captures=captures)


LIMITED_LAUNCHER = """
import resource, sys
from harness.cli import main
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(main(sys.argv[2:]))
"""
"""Runs the CLI under a file size limit, without preexec_fn, which is unsafe with threads."""


def spawn(
    args: list[str], *, stdin: int | None = None, file_size_limit: int | None = None
) -> subprocess.Popen[bytes]:
    """Start ``python -m harness ARGS`` with one thread per library; output goes to a pipe.

    ``file_size_limit`` (bytes) makes writes past that size fail, as on a full disk.
    """
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "harness", *args]
    if file_size_limit is not None:
        command = [sys.executable, "-c", LIMITED_LAUNCHER, str(file_size_limit), *args]
    return subprocess.Popen(
        command,
        cwd=REPOSITORY,
        env=environment,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"live exited with {process.returncode} before {what}: {output}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def session_folder(captures: Path) -> Path | None:
    folders = sorted(captures.iterdir()) if captures.is_dir() else []
    return folders[0] if folders else None


def line_count(captures: Path) -> int:
    folder = session_folder(captures)
    if folder is None or not (folder / FRAMES_FILE).is_file():
        return 0
    return (folder / FRAMES_FILE).read_bytes().count(b"\n")


def closed_segments(captures: Path) -> int:
    folder = session_folder(captures)
    if folder is None:
        return 0
    return sum(1 for path in (folder / "video").glob("*.avi") if "-open" not in path.name)


def check_closed_segments(session: Session) -> None:
    """Every closed segment decodes, and its frames match its lines one to one."""
    for number, path in session.segments.items():
        lines = [record for record in session.frames if record.segment == number]
        assert [record.segment_frame for record in lines] == list(range(len(lines))), number
        assert len(list(read_segment(path))) == len(lines), path


def test_kill_mid_recording(
    frames: list[NDArray[np.uint8]], built_cache: Path, tmp_path: Path
) -> None:
    captures = tmp_path / "captures"
    stream = MjpegStream([jpeg(frame) for frame in frames], fps=30.0, repeat=True)
    with serve_mjpeg(stream) as url:
        args = [*live_args(url, built_cache, captures), "--no-keys", "--segment-seconds", "0.5"]
        process = spawn(args)
        try:
            wait_for(lambda: closed_segments(captures) >= 3, process, "three closed segments")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()

    assert process.returncode == -signal.SIGKILL
    folder = session_folder(captures)
    assert folder is not None
    session = read_session(folder)
    assert session.info.ended is None
    assert session.info.counts is None
    assert len(session.segments) >= 3
    # Lines are written in frame order, and nothing was paused or dropped.
    assert [record.index for record in session.frames] == list(range(len(session.frames)))
    check_closed_segments(session)
    # Lines past the closed segments belong to segments the kill cut short.
    closed = set(session.segments)
    for record in session.frames:
        if record.segment not in closed:
            assert record.segment > max(closed)
    assert any(record.scored for record in session.frames)


def test_keys_on_terminal(
    frames: list[NDArray[np.uint8]], built_cache: Path, tmp_path: Path
) -> None:
    captures = tmp_path / "captures"
    stream = MjpegStream([jpeg(frame) for frame in frames], fps=30.0, repeat=True)
    controller, terminal = pty.openpty()
    with serve_mjpeg(stream) as url:
        args = [*live_args(url, built_cache, captures), "--segment-seconds", "0.5"]
        process = spawn(args, stdin=terminal)
        os.close(terminal)
        try:
            wait_for(lambda: line_count(captures) >= 10, process, "10 recorded frames")
            os.write(controller, b" ")
            wait_for(lambda: line_count(captures) >= 25, process, "25 recorded frames")
            os.write(controller, b"3")
            wait_for(lambda: line_count(captures) >= 40, process, "40 recorded frames")
            paused_at = line_count(captures)
            os.write(controller, b"r")
            time.sleep(1.0)
            os.write(controller, b"r")
            wait_for(lambda: line_count(captures) >= paused_at + 15, process, "recording again")
            os.write(controller, b"q")
            output, _ = process.communicate(timeout=WAIT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(controller)

    assert process.returncode == 0, output.decode()
    assert b"ended: quit" in output
    folder = session_folder(captures)
    assert folder is not None
    session = read_session(folder)
    assert session.info.ended is not None
    assert session.info.ended.reason is EndReason.QUIT
    phases = [record.phase for record in session.frames]
    assert phases[0] is Phase.CLEAN
    assert phases[-1] is Phase.PATCH
    # Once switched, the phase stays: clean frames first, then patch frames.
    assert phases == sorted(phases, key=lambda phase: phase is Phase.PATCH)
    assert any(record.tags == ("3",) for record in session.frames)
    assert session.frames[-1].tags == ("3",)
    # Frames read while recording was off have no line, so the indexes jump once.
    indexes = [record.index for record in session.frames]
    gaps = [after - before for before, after in itertools.pairwise(indexes)]
    assert sorted(set(gaps)) != [1]
    assert sum(gap > 1 for gap in gaps) == 1
    assert session.open_segments == ()
    check_closed_segments(session)


def test_disk_full_mid_recording(
    frames: list[NDArray[np.uint8]], built_cache: Path, tmp_path: Path
) -> None:
    # Smooth frames make small JPEG segments and noise frames large ones, so a file size
    # limit lets the first segments through and fails a later one, as a full disk would.
    smooth = [np.asarray(cv2.GaussianBlur(frame, (0, 0), 3), np.uint8) for frame in frames]
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, frames[0].shape, dtype=np.uint8) for _ in range(45)]
    pattern = write_sequence(tmp_path / "frames", smooth + noise)
    captures = tmp_path / "captures"
    args = [*live_args(pattern, built_cache, captures), "--no-keys", "--segment-seconds", "0.5"]
    process = spawn(args, file_size_limit=2 * 1024 * 1024)
    output, _ = process.communicate(timeout=WAIT_S)
    text = output.decode()

    assert process.returncode == 1, text
    assert "recording stopped early: writing video segment" in text
    # The run goes on after recording stops: every frame of the sequence is read.
    assert "read 75 frames" in text
    folder = session_folder(captures)
    assert folder is not None
    session = read_session(folder)
    assert session.info.ended is not None
    assert session.info.ended.reason is EndReason.DISK_FULL
    assert "disk full, or a file size limit" in session.info.ended.message
    assert session.info.counts is not None
    assert session.info.counts.source_frames == 75
    assert len(session.segments) >= 1
    assert session.frames
    check_closed_segments(session)
    recorded = {record.index for record in session.frames}
    assert max(recorded) < 75
