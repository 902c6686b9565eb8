"""Frame sources: a camera, a video file, an image sequence, a network stream or the virtual
camera (``sim:``, see :mod:`harness.simulate.source`).

A source is named the way a user types it (see :func:`parse_source`) and opened as a
:class:`FrameReader`, which returns one BGR frame per :meth:`FrameReader.read` call. Live
sources (cameras and streams) return frames at the device's rate. File sources return them
as fast as they decode, and the grabber paces them at their nominal rate.

``--resolution`` is requested from a camera's driver, and frames of the other sources are
resized to it, so that a file or a stream can stand in for a camera of that size.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from harness.capture.reader import CaptureSettings as CaptureSettings
from harness.capture.reader import Frame as Frame
from harness.capture.reader import FrameReader as FrameReader
from harness.capture.reader import SourceKind as SourceKind
from harness.capture.reader import SourceLost as SourceLost
from harness.capture.reader import SourceSpec as SourceSpec
from harness.capture.reader import redact_url as redact_url
from harness.capture.reader import resize_to as resize_to
from harness.errors import DataError, SourceError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

SEQUENCE_FPS = 30.0
"""Playback rate of an image sequence without ``--fps``, in frames per second."""

CAMERA_PROBE_INDICES = range(10)
"""Camera indices tried when listing the cameras that open."""

STREAM_SCHEMES = ("http", "https", "rtsp", "rtsps", "rtmp")

_PRINTF_INDEX = re.compile(r"%(0?)(\d*)d")


def parse_source(text: str) -> SourceSpec:
    """Turn a command-line source into a spec, checking that a file source exists.

    ``0`` (digits) is a camera index, ``scheme://...`` a stream URL and ``sim:PATCH`` the
    virtual camera. A path with a printf index such as ``frames/%05d.png``, a folder of
    images and an image file are image sequences. Any other existing file is a video.

    Raises:
        SourceError: the URL scheme is not supported, or a ``sim:`` option is invalid.
        DataError: the file, folder, first file of a pattern or ``sim:`` patch does not exist.
    """
    text = text.strip()
    if text.lower().startswith("sim:"):
        from harness.simulate.source import parse_sim_location

        parse_sim_location(text)
        return SourceSpec(kind=SourceKind.SIM, location=text)
    if text.isdigit():
        return SourceSpec(kind=SourceKind.CAMERA, location=text)
    if "://" in text:
        scheme = text.partition("://")[0].lower()
        if scheme not in STREAM_SCHEMES:
            raise SourceError(
                f"stream URL {text!r} has the unsupported scheme {scheme!r}: expected "
                f"{', '.join(STREAM_SCHEMES)}"
            )
        return SourceSpec(kind=SourceKind.STREAM, location=text)
    if _PRINTF_INDEX.search(Path(text).name):
        if not sequence_files(text):
            raise DataError(
                f"no files match the pattern {text!r}: expected files such as "
                f"{_PRINTF_INDEX.sub(lambda m: '0' * max(1, int(m.group(2) or 1)), text)}"
            )
        return SourceSpec(kind=SourceKind.IMAGES, location=text)

    path = Path(text)
    if path.is_dir():
        if not sequence_files(text):
            raise DataError(f"image folder {path} contains no images ({', '.join(IMAGE_SUFFIXES)})")
        return SourceSpec(kind=SourceKind.IMAGES, location=text)
    if not path.is_file():
        raise DataError(
            f"source {text!r} not found: expected a camera index such as 0, a video file, an "
            "image folder, a pattern such as frames/%05d.png, or a stream URL"
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec(kind=SourceKind.IMAGES, location=text)
    return SourceSpec(kind=SourceKind.VIDEO, location=text)


def sequence_files(location: str) -> list[Path]:
    """List the files of an image sequence: a folder, a printf pattern or one image file.

    A folder's images are sorted by name with digit runs compared as numbers; a pattern's
    files are sorted by their index.
    """
    path = Path(location)
    match = _PRINTF_INDEX.search(path.name)
    if match is not None:
        return _pattern_files(path, match)
    if path.is_dir():
        images = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        return sorted(images, key=_natural_key)
    return [path] if path.is_file() else []


def _pattern_files(path: Path, match: re.Match[str]) -> list[Path]:
    zero_padded, width = match.group(1), match.group(2)
    digits = rf"\d{{{width}}}" if zero_padded and width else r"\d+"
    name = re.compile(
        re.escape(path.name[: match.start()])
        + f"({digits})"
        + re.escape(path.name[match.end() :])
        + "$"
    )
    folder = path.parent
    if not folder.is_dir():
        return []
    indexed = []
    for file in folder.iterdir():
        found = name.match(file.name)
        if found is not None:
            indexed.append((int(found.group(1)), file))
    return [file for _, file in sorted(indexed)]


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def open_reader(spec: SourceSpec, settings: CaptureSettings) -> FrameReader:
    """Open a source for reading.

    Raises:
        SourceError: a camera or stream cannot be opened (the message lists the cameras
            that open, or the connection error).
        DataError: a video or image file cannot be read.
    """
    from harness.capture.mjpeg import open_http_stream

    if spec.kind is SourceKind.CAMERA:
        return CameraReader(spec, settings)
    if spec.kind is SourceKind.VIDEO:
        return VideoReader(spec, settings)
    if spec.kind is SourceKind.IMAGES:
        return ImageSequenceReader(spec, settings)
    if spec.kind is SourceKind.SIM:
        from harness.simulate.source import SimReader

        return SimReader(spec, settings)
    if spec.location.lower().startswith(("http://", "https://")):
        stream = open_http_stream(spec, settings)
        if stream is not None:
            return stream
    return FfmpegStreamReader(spec, settings)


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (a missing camera logs one per index tried)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def cameras_that_open(indices: range = CAMERA_PROBE_INDICES) -> list[int]:
    """Return the camera indices that OpenCV can open now (a busy camera does not open)."""
    found = []
    with quiet_opencv():
        for index in indices:
            capture = cv2.VideoCapture(index)
            if capture.isOpened():
                found.append(index)
            capture.release()
    return found


class CameraReader(FrameReader):
    """A local camera through OpenCV; the resolution and rate are requests to the driver."""

    def __init__(self, spec: SourceSpec, settings: CaptureSettings) -> None:
        self.spec = spec
        self._settings = settings
        index = int(spec.location)
        with quiet_opencv():
            capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            capture.release()
            found = cameras_that_open()
            listing = (
                f"cameras that open: {', '.join(str(i) for i in found)}"
                if found
                else f"no camera opens at indices {CAMERA_PROBE_INDICES.start}.."
                f"{CAMERA_PROBE_INDICES.stop - 1}; it may be unplugged or busy in another program"
            )
            raise SourceError(f"cannot open camera {index}: {listing}")

        # USB webcams deliver 720p and above at 30 fps only as MJPG; drivers without it ignore this.
        # NOTE: the tests have no camera, so these requests have not run against a real driver.
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        if settings.width is not None and settings.height is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, settings.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.height)
        if settings.fps is not None:
            capture.set(cv2.CAP_PROP_FPS, settings.fps)
        reported = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and reported > 0 else settings.fps or 30.0
        self._capture = capture

    def read(self) -> Frame | None:
        # A USB camera may drop a frame now and then; only a long silence means it is gone.
        deadline = time.monotonic() + self._settings.stall_timeout_s
        while True:
            ok, image = self._capture.read()
            if ok and image is not None:
                return np.asarray(image, dtype=np.uint8)
            if time.monotonic() >= deadline:
                raise SourceLost(
                    f"{self.spec.description} sent no frame for "
                    f"{self._settings.stall_timeout_s:g} s: it was unplugged or stopped"
                )
            time.sleep(0.01)

    def close(self) -> None:
        self._capture.release()


class VideoReader(FrameReader):
    """A video file; ``fps`` is the file's rate unless ``--fps`` sets the playback rate."""

    def __init__(self, spec: SourceSpec, settings: CaptureSettings) -> None:
        self.spec = spec
        self._settings = settings
        with quiet_opencv():
            capture = cv2.VideoCapture(spec.location)
        if not capture.isOpened():
            capture.release()
            raise DataError(
                f"cannot read video {spec.location}: not a video format OpenCV reads "
                "(try .mp4 or .avi)"
            )
        reported = capture.get(cv2.CAP_PROP_FPS)
        file_fps = float(reported) if reported and reported > 0 else SEQUENCE_FPS
        self.fps = settings.fps or file_fps
        self._capture = capture

    @property
    def frame_count(self) -> int:
        """Frames in the file as its header states them (0 when unknown)."""
        return max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)))

    def read(self) -> Frame | None:
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        return resize_to(np.asarray(image, dtype=np.uint8), self._settings)

    def skip(self) -> bool:
        return bool(self._capture.grab())

    def close(self) -> None:
        self._capture.release()


class ImageSequenceReader(FrameReader):
    """Image files in order, at ``--fps`` or 30 frames per second."""

    def __init__(self, spec: SourceSpec, settings: CaptureSettings) -> None:
        self.spec = spec
        self._settings = settings
        self.files = sequence_files(spec.location)
        if not self.files:
            raise DataError(f"image sequence {spec.location!r} has no files")
        self.fps = settings.fps or SEQUENCE_FPS
        self._next = 0

    def read(self) -> Frame | None:
        if self._next >= len(self.files):
            return None
        file = self.files[self._next]
        self._next += 1
        image = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceLost(f"cannot read image {file}: not an image format OpenCV reads")
        return resize_to(np.asarray(image, dtype=np.uint8), self._settings)

    def skip(self) -> bool:
        if self._next >= len(self.files):
            return False
        self._next += 1
        return True

    def close(self) -> None:
        self._next = len(self.files)


class FfmpegStreamReader(FrameReader):
    """An RTSP stream, or any other URL that FFmpeg reads, through OpenCV.

    NOTE: the tests serve MJPEG over HTTP only (read by :mod:`harness.capture.mjpeg`), so
    this path has run against local files but not against an RTSP server.
    """

    def __init__(self, spec: SourceSpec, settings: CaptureSettings) -> None:
        self.spec = spec
        self._settings = settings
        timeout_ms = int(settings.stall_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC]
        with quiet_opencv():
            capture = cv2.VideoCapture(spec.location, cv2.CAP_FFMPEG, [*params, timeout_ms])
        if not capture.isOpened():
            capture.release()
            raise SourceError(
                f"cannot open stream {spec.location}: FFmpeg could not connect or found no "
                "video there; check the address and that the camera app is streaming"
            )
        reported = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and reported > 0 else SEQUENCE_FPS
        self._capture = capture

    def read(self) -> Frame | None:
        ok, image = self._capture.read()
        if not ok or image is None:
            raise SourceLost(
                f"{self.spec.description} stopped sending frames (it ended, or sent nothing "
                f"for {self._settings.stall_timeout_s:g} s)"
            )
        return resize_to(np.asarray(image, dtype=np.uint8), self._settings)

    def close(self) -> None:
        self._capture.release()
