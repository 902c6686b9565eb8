"""Frames of a printed patch in its ArUco frame seen by a known camera, and an MJPEG server.

The sheet is drawn from :func:`harness.printing.markers.patch_frame`, the geometry that the
PDF and pose estimation read, and projected through the pinhole camera :data:`CAMERA` at
a known pose, so tests can check the pose that ``live`` recovers.
"""

from __future__ import annotations

import http.server
import math
import socketserver
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.printing.markers import MarkerFrame, marker_cells, patch_frame

IMAGE_SIZE = (640, 480)
"""(width, height) of the rendered frames, in px."""

FOCAL_PX = 600.0
CAMERA = np.array(
    [[FOCAL_PX, 0.0, (IMAGE_SIZE[0] - 1) / 2], [0.0, FOCAL_PX, (IMAGE_SIZE[1] - 1) / 2], [0, 0, 1]]
)
"""The known camera: its principal point is where ``live``'s assumed camera puts it."""

FOV_DEG = math.degrees(2 * math.atan(IMAGE_SIZE[0] / 2 / FOCAL_PX))
"""Horizontal field of view of :data:`CAMERA`, for ``live --fov``."""

PX_PER_MM = 4.0
"""Resolution of the drawn sheet."""


@dataclass(frozen=True)
class Pose:
    """Where the patch is: angles in degrees, its centre in mm in the camera frame."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    x_mm: float = 0.0
    y_mm: float = 0.0
    distance_mm: float = 400.0


def rotation(pose: Pose) -> NDArray[np.float64]:
    """Return Rz(roll) · Ry(yaw) · Rx(pitch), the convention of patch generation."""
    yaw, pitch, roll = (math.radians(a) for a in (pose.yaw_deg, pose.pitch_deg, pose.roll_deg))
    rot_x = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    rot_y = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    rot_z = np.array(
        [[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]]
    )
    return np.asarray(rot_z @ rot_y @ rot_x, dtype=np.float64)


def draw_sheet(
    patch_rgb: NDArray[np.uint8], size_mm: float
) -> tuple[NDArray[np.uint8], MarkerFrame, tuple[float, float]]:
    """Draw the cut-out sheet: the patch and its four markers on white paper.

    Returns:
        The (H, W, 3) RGB sheet at :data:`PX_PER_MM`, its marker frame, and the content-frame
        position (x, y) in mm of the sheet's top-left corner.
    """
    frame = patch_frame(size_mm)
    left, top, right, bottom = frame.cut_bounds_mm()
    width = round((right - left) * PX_PER_MM)
    height = round((bottom - top) * PX_PER_MM)
    sheet = np.full((height, width, 3), 255, np.uint8)

    def to_px(x_mm: float, y_mm: float) -> tuple[int, int]:
        return round((x_mm - left) * PX_PER_MM), round((y_mm - top) * PX_PER_MM)

    side = round(size_mm * PX_PER_MM)
    x0, y0 = to_px(0.0, 0.0)
    sheet[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
        patch_rgb, (side, side), interpolation=cv2.INTER_AREA
    )
    for marker_id, corners in frame.object_points().items():
        cells = marker_cells(marker_id)
        marker_px = round(frame.marker_mm * PX_PER_MM)
        drawn = cv2.resize(
            np.where(cells, 0, 255).astype(np.uint8),
            (marker_px, marker_px),
            interpolation=cv2.INTER_NEAREST,
        )
        mx, my = to_px(corners[0, 0], corners[0, 1])
        sheet[my : my + marker_px, mx : mx + marker_px] = drawn[..., None]
    return sheet, frame, (left, top)


def render_view(
    sheet: NDArray[np.uint8],
    frame: MarkerFrame,
    origin_mm: tuple[float, float],
    pose: Pose,
    background: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """Project the sheet through :data:`CAMERA` at ``pose``; return a BGR frame."""
    camera_from_patch = rotation(pose)
    centre = np.array([frame.width_mm / 2, frame.height_mm / 2, 0.0])
    translation = np.array([pose.x_mm, pose.y_mm, pose.distance_mm]) - camera_from_patch @ centre
    image_from_plane = CAMERA @ np.column_stack(
        [camera_from_patch[:, 0], camera_from_patch[:, 1], translation]
    )
    # Sheet pixel centres sit at integers; the sheet's pixel (0, 0) covers the first PX_PER_MM.
    mm = 1.0 / PX_PER_MM
    plane_from_sheet = np.array(
        [[mm, 0, origin_mm[0] + mm / 2], [0, mm, origin_mm[1] + mm / 2], [0, 0, 1]]
    )
    warped = cv2.warpPerspective(
        sheet[..., ::-1].copy(),
        image_from_plane @ plane_from_sheet,
        IMAGE_SIZE,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
        dst=(
            np.full((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), 110, np.uint8)
            if background is None
            else background.copy()
        ),
    )
    return np.asarray(warped, dtype=np.uint8)


def noise_patch(seed: int = 0, side: int = 64) -> NDArray[np.uint8]:
    """Return a colourful (side, side, 3) RGB patch that stays far from paper white."""
    return np.random.default_rng(seed).integers(10, 200, size=(side, side, 3), dtype=np.uint8)


def write_video(path: Path, frames: Sequence[NDArray[np.uint8]], fps: float) -> None:
    """Write BGR frames as an MJPG .avi file."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


def write_sequence(folder: Path, frames: Sequence[NDArray[np.uint8]]) -> str:
    """Write BGR frames as folder/00000.png...; return the printf pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{index:05d}.png"), frame)
    return str(folder / "%05d.png")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        stream = self.server.stream
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={stream.boundary}")
        self.end_headers()
        interval = 1.0 / stream.fps
        started = time.monotonic()
        try:
            for index, jpeg in enumerate(stream.parts()):
                wait = started + index * interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                delimiter = ("--" if stream.dashes else "") + stream.boundary
                headers = delimiter.encode() + b"\r\nContent-Type: image/jpeg\r\n"
                if stream.with_length:
                    headers += b"Content-Length: %d\r\n" % len(jpeg)
                self.wfile.write(headers + b"\r\n" + jpeg + b"\r\n")
                stream.sent += 1
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, format: str, *args: object) -> None:
        return None


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    stream: MjpegStream


@dataclass
class MjpegStream:
    """What the test server sends to each client."""

    frames: list[bytes]
    """JPEG files, sent in order."""

    fps: float = 30.0
    repeat: bool = False
    """Loop over the frames until the client leaves; otherwise close after the last."""

    with_length: bool = True
    """Send a Content-Length header per part, as most servers do."""

    boundary: str = "harnessframe"
    dashes: bool = True
    """Open each part with ``--`` and the boundary, as RFC 2046 has it; some cameras send
    the boundary parameter's text alone."""

    sent: int = 0

    def parts(self) -> Iterator[bytes]:
        while True:
            yield from self.frames
            if not self.repeat:
                return


@contextmanager
def serve_mjpeg(stream: MjpegStream) -> Iterator[str]:
    """Serve ``stream`` on 127.0.0.1 in a thread; yield its URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stream = stream
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/video"
    finally:
        server.shutdown()
        server.server_close()


def jpeg(frame: NDArray[np.uint8]) -> bytes:
    """Encode a BGR frame as JPEG."""
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data.tobytes())


LIVE_VARIANTS = "efficientnet-lite0@32,int8"
"""Variants of the live runs in tests: the float model and the deployed int8 model."""


def live_command(
    source: str, *, cache: Path, captures: Path, agreement_images: int = 16
) -> list[str]:
    """Return ``live`` arguments for a small run on ``source`` aimed at toaster.

    The variants calibrate on 8 scenes, and the pose uses the field of view of
    :data:`CAMERA`.
    """
    return [
        "live",
        source,
        "--variants",
        LIVE_VARIANTS,
        "--calibration-images",
        "8",
        "--agreement-images",
        str(agreement_images),
        "--cache-dir",
        str(cache),
        "--captures",
        str(captures),
        "--fov",
        str(FOV_DEG),
        "--target",
        "toaster",
    ]
