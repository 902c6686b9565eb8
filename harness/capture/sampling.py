"""Frames sampled from a source for calibration: spread over a video, spaced in time live."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from harness.capture.sources import (
    CaptureSettings,
    Frame,
    FrameReader,
    SourceKind,
    SourceLost,
    VideoReader,
    open_reader,
    parse_source,
    sequence_files,
)
from harness.errors import DataError

logger = logging.getLogger(__name__)

LIVE_INTERVAL_S = 0.5
"""Minimum time between two frames taken from a live source, so that views differ, in s."""


@dataclass(frozen=True, kw_only=True)
class FrameSample:
    """Frames to look for a calibration target in."""

    description: str
    """The source as a user named it, e.g. ``video board.mp4`` or ``camera 0``."""

    count: int | None
    """Frames that ``frames`` yields, or None for a live source that runs until a deadline."""

    frames: Callable[[], Iterator[Frame]]
    """Returns a fresh iterator over the frames."""


def sample_source(text: str, *, max_frames: int, duration_s: float) -> FrameSample:
    """Open a source and choose the frames to read from it.

    Args:
        text: a camera index (``0``), a stream URL (``rtsp://...``), an image folder or
            pattern, an image file or a video file.
        max_frames: a video yields at most this many frames, spread evenly over its length.
        duration_s: a live source yields one frame per :data:`LIVE_INTERVAL_S` for this many
            seconds.

    Raises:
        DataError: the path does not exist or contains no image, or the video cannot be read.
        SourceError: the camera or stream cannot be opened.
    """
    spec = parse_source(text)
    settings = CaptureSettings()
    if spec.kind is SourceKind.IMAGES:
        files = sequence_files(spec.location)

        def images() -> Iterator[Frame]:
            with open_reader(spec, settings) as reader:
                while (frame := _read_image(reader)) is not None:
                    yield frame

        return FrameSample(description=spec.description, count=len(files), frames=images)
    if spec.kind is SourceKind.VIDEO:
        return _sample_video(text, max_frames)

    # Open once now, so that a missing camera fails before any work.
    open_reader(spec, settings).close()

    def live() -> Iterator[Frame]:
        with open_reader(spec, settings) as reader:
            deadline = time.monotonic() + duration_s
            last_yield = -LIVE_INTERVAL_S
            while (now := time.monotonic()) < deadline:
                # Read every frame so that the driver's buffer never serves a stale one.
                frame = reader.read()
                if frame is None:
                    return
                if now - last_yield >= LIVE_INTERVAL_S:
                    last_yield = now
                    yield frame

    logger.info(
        "reading %s for %.0f s: show the board from many angles", spec.description, duration_s
    )
    return FrameSample(description=spec.description, count=None, frames=live)


def _read_image(reader: FrameReader) -> Frame | None:
    try:
        return reader.read()
    except SourceLost as error:
        raise DataError(str(error)) from None


def _sample_video(text: str, max_frames: int) -> FrameSample:
    spec = parse_source(text)
    settings = CaptureSettings()
    with VideoReader(spec, settings) as reader:
        total = reader.frame_count
    if total <= 0:
        raise DataError(f"video {text} has no frames")
    picks = sorted(set(np.linspace(0, total - 1, min(total, max_frames)).round().astype(int)))

    def frames() -> Iterator[Frame]:
        # Reading on with skip() is reliable in every backend; seeking is not.
        with VideoReader(spec, settings) as video:
            for index in range(picks[-1] + 1):
                if index in chosen:
                    frame = video.read()
                    if frame is None:
                        return
                    yield frame
                elif not video.skip():
                    return

    chosen = set(picks)
    return FrameSample(description=spec.description, count=len(picks), frames=frames)
