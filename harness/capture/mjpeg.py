"""MJPEG over HTTP: the stream that phone-as-webcam apps and IP cameras serve.

The server responds to one GET with ``Content-Type: multipart/x-mixed-replace; boundary=B`` and
then sends JPEG images forever, each part opened by a ``--B`` line and its own headers
(RFC 2046, section 5.1.1, describes multipart bodies). Most servers send a
``Content-Length`` header per part. For the others, the part ends at the next boundary line.

A socket timeout turns a stalled stream into :class:`SourceLost` instead of a hang.
"""

from __future__ import annotations

import base64
import http.client
import logging
import socket
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np

from harness.capture.reader import (
    CaptureSettings,
    Frame,
    FrameReader,
    SourceLost,
    SourceSpec,
    redact_url,
    resize_to,
)
from harness.errors import SourceError

logger = logging.getLogger(__name__)

MAX_LINE_BYTES = 8192
"""Maximum length of a header or boundary line, in bytes."""

MAX_PART_BYTES = 64 * 1024 * 1024
"""Largest JPEG part accepted, in bytes; a larger Content-Length means a broken stream."""

MAX_BAD_PARTS = 30
"""Consecutive undecodable parts after which the stream counts as lost."""


def open_http_stream(spec: SourceSpec, settings: CaptureSettings) -> MjpegReader | None:
    """Connect to an HTTP(S) URL; return an MJPEG reader, or None for other video content.

    None lets the caller hand the URL to FFmpeg (an .mp4 file served over HTTP, say).

    Raises:
        SourceError: the connection fails, the server responds with an error status, or
            it sends a web page or a single image instead of a stream.
    """
    url = spec.location
    parts = urlsplit(url)
    if not parts.hostname:
        raise SourceError(
            f"stream URL {url!r} has no host: expected e.g. http://192.168.1.5:8080/video"
        )
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.hostname, parts.port, timeout=settings.stall_timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": "patch-harness", "Accept": "multipart/x-mixed-replace, */*"}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()

    display_url = redact_url(url)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        raise SourceError(
            f"cannot connect to stream {display_url}: {_reason(error)}; check the address and that "
            "the camera app is streaming"
        ) from None

    if response.status != 200:
        connection.close()
        raise SourceError(
            f"stream {display_url} responded with HTTP {response.status} {response.reason}: "
            "check the path (phone apps often serve /video or /mjpeg)"
        )
    content_type = response.getheader("Content-Type", "")
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type.startswith("multipart/"):
        boundary = _boundary(parameters)
        if boundary is None:
            connection.close()
            raise SourceError(f"stream {display_url} sent {content_type!r} without a boundary")
        return MjpegReader(spec, settings, connection, response, boundary)

    connection.close()
    if media_type.startswith(("text/", "image/")):
        raise SourceError(
            f"{display_url} sent {media_type}, not a video stream: use the app's video address "
            "(often /video or /mjpeg)"
        )
    return None


class MjpegReader(FrameReader):
    """Frames of a multipart MJPEG response; see the module docstring."""

    def __init__(
        self,
        spec: SourceSpec,
        settings: CaptureSettings,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        boundary: bytes,
    ) -> None:
        self.spec = spec
        # A stream sets its own rate; the request only labels the recording until measured.
        self.fps = settings.fps or 30.0
        self._settings = settings
        self._connection = connection
        self._response = response
        self._boundary = boundary
        self._at_headers = False
        """Whether the boundary line of the next part was already read (parts without length)."""

        self._ended = False
        """Whether the closing boundary was read."""

    def read(self) -> Frame | None:
        bad_parts = 0
        while True:
            try:
                data = self._next_part()
            except TimeoutError:
                timeout = self._settings.stall_timeout_s
                raise SourceLost(
                    f"{self.spec.description} sent no frame for {timeout:g} s"
                ) from None
            except (OSError, http.client.HTTPException) as error:
                raise SourceLost(f"{self.spec.description} failed: {_reason(error)}") from None
            if data is None:
                return None

            image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                return resize_to(np.asarray(image, dtype=np.uint8), self._settings)
            bad_parts += 1
            logger.debug(
                "%s: part of %d bytes is not a JPEG image", self.spec.description, len(data)
            )
            if bad_parts >= MAX_BAD_PARTS:
                raise SourceLost(
                    f"{self.spec.description} sent {bad_parts} parts in a row that are not JPEG"
                )

    def close(self) -> None:
        self._connection.close()

    def _next_part(self) -> bytes | None:
        """Return the body of the next part, or None when the server closed the stream."""
        if self._ended or (not self._at_headers and not self._skip_to_boundary()):
            return None
        self._at_headers = False

        length: int | None = None
        while True:
            line = self._response.readline(MAX_LINE_BYTES)
            if not line:
                return None
            if not line.strip():
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())

        if length is not None:
            if length > MAX_PART_BYTES:
                raise SourceLost(f"{self.spec.description} announced a part of {length} bytes")
            data = self._response.read(length)
            return data if len(data) == length else None
        return self._read_until_boundary()

    def _skip_to_boundary(self) -> bool:
        while True:
            line = self._response.readline(MAX_LINE_BYTES)
            if not line:
                return False
            kind = self._boundary_kind(line)
            if kind is not None:
                return kind == "part"

    def _boundary_kind(self, line: bytes) -> str | None:
        """Return ``part`` for a delimiter line, ``end`` for the closing one, else None.

        Leading dashes are not compared, because servers disagree on whether the boundary
        parameter includes the two dashes of the delimiter.
        """
        core = line.rstrip().lstrip(b"-")
        if core == self._boundary:
            return "part"
        if core == self._boundary + b"--":
            return "end"
        return None

    def _read_until_boundary(self) -> bytes | None:
        body = bytearray()
        while len(body) <= MAX_PART_BYTES:
            line = self._response.readline(MAX_LINE_BYTES)
            if not line:
                # The server closed the stream after this part; a cut-short image fails to decode.
                self._ended = True
                return bytes(body.rstrip(b"\r\n")) if body else None
            kind = self._boundary_kind(line)
            if kind is not None:
                self._at_headers = kind == "part"
                self._ended = kind == "end"
                # The line break before a boundary belongs to the boundary, not the image.
                return bytes(body[:-2] if body.endswith(b"\r\n") else body.rstrip(b"\n"))
            body += line
        raise SourceLost(f"{self.spec.description} sent a part of more than {MAX_PART_BYTES} bytes")


def _boundary(parameters: str) -> bytes | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary" and value.strip():
            boundary = value.strip().strip('"')
            return boundary.lstrip("-").encode("latin-1")
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return str(error) or type(error).__name__
