"""Types shared by every frame source: its name, the requested settings and the reader.

:mod:`harness.capture.sources` opens the built-in sources. The MJPEG reader and the virtual
camera's reader build on the classes here, so they do not import the module that opens
them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.errors import SourceError

Frame = NDArray[np.uint8]
"""An (H, W, 3) BGR image, as OpenCV reads it."""


class SourceKind(Enum):
    """The kind of device or file that frames come from."""

    CAMERA = "camera"
    VIDEO = "video"
    IMAGES = "images"
    STREAM = "stream"
    SIM = "sim"


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    """A source as the user named it."""

    kind: SourceKind
    location: str
    """Camera index, file or folder path, printf pattern or URL, as given."""

    @property
    def description(self) -> str:
        """The source for messages, e.g. ``camera 0`` or ``video board.mp4``; no password."""
        return f"{self.kind.value} {redact_url(self.location)}"

    @property
    def live(self) -> bool:
        """Whether frames arrive at the device's rate (camera, stream) rather than from a file."""
        return self.kind in (SourceKind.CAMERA, SourceKind.STREAM)


@dataclass(frozen=True, kw_only=True)
class CaptureSettings:
    """Requested frame size and rate; None keeps the source's own."""

    width: int | None = None
    """Frame width in px."""

    height: int | None = None
    """Frame height in px."""

    fps: float | None = None
    """Frames per second: requested from a camera, the playback rate of a file; a stream
    sets its own rate."""

    stall_timeout_s: float = 5.0
    """A live source that delivers no frame for this long is lost, in s."""


class SourceLost(SourceError):
    """A source that was open stopped delivering frames: unplugged, closed, or unreadable."""


class FrameReader(ABC):
    """An open source; :meth:`read` returns frames until the source ends."""

    spec: SourceSpec
    fps: float
    """Nominal frames per second: requested or reported by the device, or the playback rate."""

    @abstractmethod
    def read(self) -> Frame | None:
        """Return the next (H, W, 3) BGR frame, or None when the source has ended.

        Raises:
            SourceLost: the device or stream stopped delivering frames, or a file is corrupt.
        """

    def skip(self) -> bool:
        """Advance one frame without decoding it where the source allows; False at the end."""
        return self.read() is not None

    @abstractmethod
    def close(self) -> None:
        """Release the device, connection or file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def resize_to(frame: Frame, settings: CaptureSettings) -> Frame:
    """Resize a frame to the requested width and height, when both are set and differ."""
    if settings.width is None or settings.height is None:
        return frame
    if frame.shape[1] == settings.width and frame.shape[0] == settings.height:
        return frame
    resized = cv2.resize(frame, (settings.width, settings.height), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def redact_url(location: str) -> str:
    """Return a source location with the password of a URL replaced by ``***``."""
    if "://" not in location:
        return location
    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
