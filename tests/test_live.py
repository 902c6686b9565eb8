"""``live`` end to end: an MJPEG stream, a video file and an image sequence into sessions.

The frames show a scene photo, first alone (clean) and then with the printed patch and its
ArUco frame at known poses, so the recorded conditions can be checked against the truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from PIL import Image

from harness.capture.session import EndReason, Phase, Session, read_segment, read_session
from harness.scenes import default_scenes
from tests.cli_helpers import run_cli
from tests.live_helpers import (
    FOV_DEG,
    IMAGE_SIZE,
    MjpegStream,
    Pose,
    draw_sheet,
    jpeg,
    live_command,
    noise_patch,
    render_view,
    serve_mjpeg,
    write_sequence,
    write_video,
)

torch.set_num_threads(1)

CLEAN_FRAMES = 8
POSES = [Pose(yaw_deg=yaw, pitch_deg=-8.0, distance_mm=350.0) for yaw in range(-22, 23, 2)]
"""Poses of the patch in the frames after the clean ones: 23 frames, yaw -22..22 degrees."""


@pytest.fixture(scope="module")
def frames() -> list[NDArray[np.uint8]]:
    """8 clean frames of a scene photo, then 23 with the patch at :data:`POSES` (BGR)."""
    coffee = next(s for s in default_scenes().scenes if s.name == "skimage:coffee#0")
    photo = np.asarray(coffee.load().convert("RGB"), dtype=np.uint8)
    resized = cv2.resize(photo, IMAGE_SIZE, interpolation=cv2.INTER_AREA)
    background = np.ascontiguousarray(resized[..., ::-1], dtype=np.uint8)
    sheet, marker_frame, origin = draw_sheet(noise_patch(), 100.0)
    patched = [render_view(sheet, marker_frame, origin, pose, background) for pose in POSES]
    return [background.copy() for _ in range(CLEAN_FRAMES)] + patched


def live_args(source: str, captures: Path, cache: Path, *extra: str) -> list[str]:
    command = live_command(source, cache=cache, captures=captures)
    return [*command, "--no-keys", "--segment-seconds", "0.25", *extra]


def only_session(captures: Path) -> Session:
    folders = sorted(captures.iterdir())
    assert len(folders) == 1, folders
    return read_session(folders[0])


def check_recording(session: Session, frame_count: int) -> None:
    """Every source frame has one line, and every segment contains exactly its lines' frames."""
    assert [record.index for record in session.frames] == list(range(frame_count))
    assert not session.truncated_tail
    assert session.open_segments == ()
    used = sorted({record.segment for record in session.frames})
    assert sorted(session.segments) == used
    for number, path in session.segments.items():
        lines = [record for record in session.frames if record.segment == number]
        assert [record.segment_frame for record in lines] == list(range(len(lines)))
        decoded = list(read_segment(path))
        assert len(decoded) == len(lines), path
        assert decoded[0].shape == (IMAGE_SIZE[1], IMAGE_SIZE[0], 3)

    counts = session.info.counts
    assert counts is not None
    assert counts.recorded_frames == frame_count
    assert counts.source_frames == frame_count
    assert counts.segments == len(used)
    assert counts.dropped_frames == 0
    assert counts.scored_frames == sum(record.scored for record in session.frames)
    assert counts.scored_frames >= 1


def test_mjpeg_stream(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = MjpegStream([jpeg(frame) for frame in frames], fps=30.0, repeat=True)
    with serve_mjpeg(stream) as url:
        code, out, _ = run_cli(
            live_args(url, tmp_path, variant_cache, "--max-frames", "30"), capsys
        )

    assert code == 0
    assert "recorded 30 of 30 frames" in out
    session = only_session(tmp_path)
    check_recording(session, 30)
    info = session.info
    assert info.source.kind == "stream"
    assert info.source.location == url
    assert (info.source.width, info.source.height) == IMAGE_SIZE
    assert info.ended is not None
    assert info.ended.reason is EndReason.MAX_FRAMES
    assert [variant.name for variant in info.variants] == [
        "efficientnet-lite0@32",
        "efficientnet-lite0@int8",
    ]
    assert info.target is not None
    assert info.target.name == "toaster"
    # Segments of 0.25 s at 30 fps: one second of frames spreads over several files.
    assert len(session.segments) >= 3
    assert all(record.phase is Phase.CLEAN for record in session.frames)


def test_video_conditions(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    video = tmp_path / "scene.avi"
    write_video(video, frames, fps=30.0)
    captures = tmp_path / "captures"
    code, out, _ = run_cli(live_args(str(video), captures, variant_cache), capsys)

    assert code == 0, out
    session = only_session(captures)
    check_recording(session, len(frames))
    assert session.info.ended is not None
    assert session.info.ended.reason is EndReason.SOURCE_ENDED
    assert session.info.camera.assumed_fov_deg == pytest.approx(FOV_DEG)

    scored = [record for record in session.frames if record.scored]
    with_patch = [record for record in scored if record.index >= CLEAN_FRAMES]
    clean = [record for record in scored if record.index < CLEAN_FRAMES]
    assert with_patch, "no frame with the patch was scored"
    for record in with_patch:
        conditions = record.conditions
        assert conditions is not None
        truth = POSES[record.index - CLEAN_FRAMES]
        assert conditions.markers == (0, 1, 2, 3)
        assert conditions.yaw_deg == pytest.approx(truth.yaw_deg, abs=3.0), record.index
        assert conditions.pitch_deg == pytest.approx(truth.pitch_deg, abs=3.0), record.index
        assert conditions.roll_deg == pytest.approx(0.0, abs=2.0), record.index
        assert conditions.distance_m == pytest.approx(0.35, rel=0.03), record.index
        # A 100 mm patch at 350 mm through a 600 px focal length: about 171 px on a side.
        assert conditions.patch_area_px == pytest.approx(171.4**2, rel=0.2), record.index
        assert record.input_region == (0, 0, *IMAGE_SIZE)
        assert set(record.predictions) == {"efficientnet-lite0@32", "efficientnet-lite0@int8"}
        for prediction in record.predictions.values():
            assert 0.0 <= prediction.probability <= 1.0
            assert prediction.target_probability is not None
    for record in clean:
        assert record.conditions is not None
        assert record.conditions.markers == ()
        assert record.conditions.yaw_deg is None
        assert 0.2 < record.conditions.luminance < 0.8


def test_image_sequence_crop(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pattern = write_sequence(tmp_path / "frames", frames)
    captures = tmp_path / "captures"
    args = live_args(pattern, captures, variant_cache, "--fps", "20", "--crop", "2")
    code, _, _ = run_cli(args, capsys)

    assert code == 0
    session = only_session(captures)
    check_recording(session, len(frames))
    assert session.info.source.kind == "images"
    assert session.info.source.fps == 20.0
    assert session.info.scoring.crop_scale == 2.0
    # Paced at 20 fps, the 31 frames span about 1.5 s.
    assert session.frames[-1].time_s == pytest.approx(30 / 20, abs=0.3)

    for record in session.frames:
        if not record.scored:
            continue
        assert record.conditions is not None
        left, top, right, bottom = record.input_region or (0, 0, 0, 0)
        if record.index < CLEAN_FRAMES:
            assert (left, top, right, bottom) == (0, 0, *IMAGE_SIZE)
            continue
        # A square twice the patch's extent around its centre, inside the frame.
        corners = np.array(record.conditions.patch_corners_px)
        extent = float(np.max(corners.max(axis=0) - corners.min(axis=0)))
        assert right - left == bottom - top
        assert right - left == pytest.approx(min(2 * extent, IMAGE_SIZE[1]), abs=2)
        centre = corners.mean(axis=0)
        assert left <= centre[0] <= right
        assert top <= centre[1] <= bottom


def test_patch_folder_and_new_session(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    printables = tmp_path / "printables"
    patch_png = tmp_path / "patch.png"
    Image.fromarray(noise_patch()).save(patch_png)
    from harness.printing.patchfile import PatchTarget, import_patch_image

    patch = import_patch_image(patch_png, PatchTarget(index=859, name="toaster"), printables)
    pattern = write_sequence(tmp_path / "frames", frames[:6])
    captures = tmp_path / "captures"
    base = live_args(pattern, captures, variant_cache)
    base.remove("--target")
    base.remove("toaster")
    args = [*base, "--patch", patch.patch_id, "--printables", str(printables), "--size-mm", "120"]

    assert run_cli(args, capsys)[0] == 0
    first = sorted(captures.iterdir())
    first_lines = (first[0] / "frames.jsonl").read_bytes()
    assert run_cli(args, capsys)[0] == 0

    # The second run gets its own folder even within the same second; the first stays.
    folders = sorted(captures.iterdir())
    assert len(folders) == 2
    assert (first[0] / "frames.jsonl").read_bytes() == first_lines
    for folder in folders:
        document = json.loads((folder / "session.json").read_text())
        assert document["patch"] == {"patch_id": patch.patch_id, "size_mm": 120.0}
        assert document["target"] == {"index": 859, "name": "toaster"}
        assert document["ended"]["reason"] == "source-ended"


def test_stream_closed_by_server(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Parts without Content-Length end at the next boundary, as some cameras send them.
    stream = MjpegStream([jpeg(frame) for frame in frames[:12]], fps=30.0, with_length=False)
    with serve_mjpeg(stream) as url:
        code, out, _ = run_cli(live_args(url, tmp_path, variant_cache), capsys)

    assert code == 0
    assert "ended: source-ended" in out
    session = only_session(tmp_path)
    check_recording(session, 12)
    assert session.info.ended is not None
    assert "ended after 12 frames" in session.info.ended.message


def test_no_record(
    frames: list[NDArray[np.uint8]],
    tmp_path: Path,
    variant_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pattern = write_sequence(tmp_path / "frames", frames[:5])
    captures = tmp_path / "captures"
    code, out, _ = run_cli(live_args(pattern, captures, variant_cache, "--no-record"), capsys)

    assert code == 0
    assert "nothing was recorded" in out
    assert "read 5 frames" in out
    assert list(captures.iterdir()) == []
