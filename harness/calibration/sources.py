"""Frames for calibration from a video file, an image folder, an image or a live camera."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.errors import DataError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

LIVE_INTERVAL_S = 0.5
"""Minimum time between two frames taken from a live source, so that views differ, in s."""

Frame = NDArray[np.uint8]
"""An (H, W, 3) BGR image, as OpenCV reads it."""


@dataclass(frozen=True, kw_only=True)
class FrameSource:
    """Frames to look for a calibration target in."""

    description: str
    """The source as a user named it, e.g. ``video board.mp4`` or ``camera 0``."""

    count: int | None
    """Frames that ``frames`` yields, or None for a live source that runs until a deadline."""

    frames: Callable[[], Iterator[Frame]]
    """Returns a fresh iterator over the frames."""


def open_source(text: str, *, max_frames: int, duration_s: float) -> FrameSource:
    """Open a calibration source.

    Args:
        text: a camera index (``0``), a stream URL (``rtsp://...``), an image folder, an
            image file or a video file.
        max_frames: a video yields at most this many frames, spread evenly over its length.
        duration_s: a live source yields frames for this many seconds.

    Raises:
        DataError: the path does not exist or contains no image, or the video or camera
            cannot be opened.
    """
    if text.isdigit() or "://" in text:
        return _live_source(text, duration_s)

    path = Path(text)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"image folder {path} contains no images ({', '.join(IMAGE_SUFFIXES)})")
        return FrameSource(
            description=f"image folder {path}", count=len(files), frames=lambda: _read_images(files)
        )
    if not path.is_file():
        raise DataError(
            f"calibration source {text!r} not found: expected a video file, an image folder, "
            "an image or a camera index such as 0"
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return FrameSource(
            description=f"image {path}", count=1, frames=lambda: _read_images([path])
        )
    return _video_source(path, max_frames)


def _read_images(files: list[Path]) -> Iterator[Frame]:
    for file in files:
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"cannot read image {file}: not an image format OpenCV reads")
        yield np.asarray(image, dtype=np.uint8)


def _video_source(path: Path, max_frames: int) -> FrameSource:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"cannot open video {path}: not a video format OpenCV reads")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    if total <= 0:
        raise DataError(f"video {path} has no frames")
    picks = sorted(set(np.linspace(0, total - 1, min(total, max_frames)).round().astype(int)))

    def frames() -> Iterator[Frame]:
        # Reading on with grab() is reliable in every backend; seeking is not.
        video = cv2.VideoCapture(str(path))
        try:
            wanted = iter(picks)
            next_pick = next(wanted, None)
            index = 0
            while next_pick is not None and video.grab():
                if index == next_pick:
                    ok, image = video.retrieve()
                    if ok:
                        yield np.asarray(image, dtype=np.uint8)
                    next_pick = next(wanted, None)
                index += 1
        finally:
            video.release()

    return FrameSource(description=f"video {path}", count=len(picks), frames=frames)


def _live_source(text: str, duration_s: float) -> FrameSource:
    # NOTE: the tests have no camera, so this path has only run against a missing device.
    target: int | str = int(text) if text.isdigit() else text
    description = f"camera {text}" if text.isdigit() else f"stream {text}"

    def frames() -> Iterator[Frame]:
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            raise DataError(f"cannot open {description}: it is not connected, or busy")
        deadline = time.monotonic() + duration_s
        last_yield = -LIVE_INTERVAL_S
        try:
            while (now := time.monotonic()) < deadline:
                # Read every frame so that the driver's buffer never serves a stale one.
                ok, image = capture.read()
                if not ok:
                    raise DataError(f"{description} stopped sending frames")
                if now - last_yield >= LIVE_INTERVAL_S:
                    last_yield = now
                    yield np.asarray(image, dtype=np.uint8)
        finally:
            capture.release()

    logger.info("reading %s for %.0f s: show the board from many angles", description, duration_s)
    return FrameSource(description=description, count=None, frames=frames)
