"""Live capture, scoring and recording of a 1280x720, 30 fps MJPEG stream with six variants.

Run from the repository root: .venv/bin/python -m bench.live [--seconds 60] [--threads N]

A second process serves a looping MJPEG stream on 127.0.0.1, the way phone-as-webcam apps
stream, of a printed patch in its ArUco frame moving over a photo. This process runs the
same code as ``patch-harness live`` (prepare, then run with the rich dashboard drawn to an
in-memory terminal) for the given time, then reads the session back and prints:

- capture fps and frames sent by the server versus frames read;
- recorded frames versus source frames, and that every recorded frame has its jsonl line
  and its pixels in a closed segment;
- scored fps (each scored frame goes through every variant), median inference ms per
  variant, and the dashboard update rate.

Variants are built (or loaded from the variant cache) before the clock starts.
"""

from __future__ import annotations

import argparse
import io
import math
import multiprocessing
import os
import platform
import tempfile
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console

from harness.capture.grabber import RunLimits
from harness.capture.session import read_session
from harness.commands.live import LiveRequest, prepare_live, run_live
from harness.live.dashboard import RichView
from harness.models.cache import default_cache_dir
from harness.models.spec import parse_variants
from harness.scenes import default_scenes
from tests.live_helpers import MjpegStream, draw_sheet, jpeg, noise_patch, serve_mjpeg

FRAME_SIZE = (1280, 720)
"""(width, height) of the streamed frames, in px."""

LOOP_FRAMES = 90
"""Distinct frames in the loop the server repeats (3 s at 30 fps)."""


def render_frames() -> list[bytes]:
    """Return JPEG frames of the patch sheet swaying and turning over the astronaut photo."""
    width, height = FRAME_SIZE
    photo = default_scenes().scenes[0].load()
    background = cv2.resize(np.asarray(photo)[..., ::-1], FRAME_SIZE)
    sheet, _, _ = draw_sheet(noise_patch(seed=3, side=96), size_mm=100.0)
    sheet_bgr = np.ascontiguousarray(sheet[..., ::-1])
    sheet_h, sheet_w = sheet_bgr.shape[:2]
    source = np.array([[0, 0], [sheet_w, 0], [sheet_w, sheet_h], [0, sheet_h]], np.float32)

    frames = []
    for index in range(LOOP_FRAMES):
        phase = 2 * math.pi * index / LOOP_FRAMES
        centre = np.array([width / 2 + 200 * math.sin(phase), height / 2 + 60 * math.cos(phase)])
        half = 150 + 40 * math.sin(2 * phase)
        squeeze = 1 - 0.25 * abs(math.sin(phase))
        turn = 0.3 * math.sin(phase)
        corners = np.array([[-squeeze, -1], [squeeze, -1], [1, 1], [-1, 1]]) * half
        rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
        target = (corners @ rotation.T + centre).astype(np.float32)
        homography = cv2.getPerspectiveTransform(source, target)
        frame = cv2.warpPerspective(
            sheet_bgr,
            homography,
            FRAME_SIZE,
            dst=background.copy(),
            borderMode=cv2.BORDER_TRANSPARENT,
        )
        frames.append(jpeg(np.asarray(frame, np.uint8)))
    return frames


def serve(
    frames: list[bytes], url_queue: multiprocessing.Queue[str], sent: Synchronized[int]
) -> None:
    """Serve the frames in a loop at 30 fps until the parent ends this process."""
    stream = MjpegStream(frames=frames, fps=30.0, repeat=True)
    with serve_mjpeg(stream) as url:
        url_queue.put(url)
        while True:
            time.sleep(0.2)
            sent.value = stream.sent


def segment_frame_count(path: Path) -> int:
    """Count the frames OpenCV decodes from one video segment."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run, in s")
    parser.add_argument(
        "--variants",
        default="efficientnet-lite0@32,8,5,4,2,int8",
        help="variants scored on every scored frame",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="ONNX Runtime threads per variant (default: as live, all cores but one)",
    )
    args = parser.parse_args()

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, opencv {cv2.__version__}"
    )
    frames = render_frames()
    context = multiprocessing.get_context("spawn")
    url_queue: multiprocessing.Queue[str] = context.Queue()
    sent: Synchronized[int] = context.Value("q", 0)
    server = context.Process(target=serve, args=(frames, url_queue, sent), daemon=True)
    server.start()
    url = url_queue.get(timeout=60)

    captures = Path(tempfile.mkdtemp(prefix="bench-live-"))
    request = LiveRequest(
        source=url,
        variants=tuple(parse_variants(args.variants)),
        target="toaster",
        captures=captures,
        limits=RunLimits(duration_s=args.seconds),
        keys=False,
        threads=args.threads,
        cache_dir=default_cache_dir(),
    )
    setup = prepare_live(request, status=print)
    # The dashboard renders to memory at its normal rate: its cost is measured, not shown.
    console = Console(file=io.StringIO(), force_terminal=True, width=140, height=40)
    sent_before = sent.value
    outcome = run_live(setup, view=RichView(console))
    sent_during = sent.value - sent_before
    server.terminate()

    session_info = outcome.session
    assert session_info is not None, "nothing was recorded"
    session = read_session(captures / session_info.session_id)
    decoded = sum(segment_frame_count(path) for path in session.segments.values())
    counts = session_info.counts
    assert counts is not None

    print(f"\nrun: {outcome.elapsed_s:.1f} s, {len(setup.variants)} variants, source {url}")
    print(f"server sent (approx.)     : {sent_during} frames")
    print(f"capture fps               : {outcome.capture_fps:.1f} ({outcome.frames_read} frames)")
    print(
        f"recorded / source frames  : {counts.recorded_frames} / {counts.source_frames} "
        f"({counts.dropped_frames} dropped)"
    )
    print(f"jsonl lines               : {len(session.frames)}")
    print(
        f"frames in closed segments : {decoded} in {len(session.segments)} segments, "
        f"{len(session.open_segments)} open"
    )
    print(f"scored fps (all variants) : {outcome.scored_fps:.1f} ({outcome.scored_frames} frames)")
    print(f"median ms per scored frame: {outcome.median_frame_ms:.1f} (markers, pose, variants)")
    for name, milliseconds in outcome.median_ms.items():
        print(f"  {name:<32} {milliseconds:6.1f} ms median inference")
    print(f"dashboard updates         : {outcome.dashboard_hz:.1f} per s")

    lost = counts.source_frames - counts.recorded_frames
    status = "no recorded frame lost" if lost == 0 else f"{lost} source frames not recorded"
    print(f"result: {status}; {outcome.scored_fps:.1f} scored fps with every variant")


if __name__ == "__main__":
    main()
