"""The virtual camera: projects a printed sheet into a scene and adds the camera's effects.

Convention: OpenCV's pinhole camera (x right, y down, z forward, pixel centres at integer
coordinates) and the patch content frame of :mod:`harness.printing.markers` (mm, z into
the sheet). ``camera_from_patch = Rz(roll) · Ry(yaw) · Rx(pitch)``, the convention that
:mod:`harness.capture.pose` measures, so a rendered frame can be checked against it.

The order mirrors the physical chain: light on the paper (contrast, brightness, gamma) →
perspective projection, supersampled and area-averaged → defocus → sensor noise → JPEG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from harness.capture.pose import Intrinsics
from harness.capture.session import TrueConditions
from harness.simulate.conditions import ViewConditions
from harness.simulate.sheet import PrintedSheet, light_sheet

SUPERSAMPLING = 2
"""The frame is rendered at this many times its size, then area-averaged (anti-aliasing)."""


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> NDArray[np.float64]:
    """Return the (3, 3) rotation Rz(roll) · Ry(yaw) · Rx(pitch), angles in degrees."""
    yaw, pitch, roll = (math.radians(angle) for angle in (yaw_deg, pitch_deg, roll_deg))
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


def fit_background(image: Image.Image, size: tuple[int, int]) -> NDArray[np.uint8]:
    """Scale a scene to cover ``size`` (width, height) px and crop its centre; (H, W, 3) RGB."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    scaled = image.convert("RGB").resize(
        (max(width, math.ceil(image.width * scale)), max(height, math.ceil(image.height * scale))),
        Image.Resampling.BICUBIC,
    )
    left = (scaled.width - width) // 2
    top = (scaled.height - height) // 2
    return np.asarray(scaled.crop((left, top, left + width, top + height)), dtype=np.uint8)


@dataclass(frozen=True, kw_only=True)
class VirtualCamera:
    """A pinhole camera of known intrinsics and frame size."""

    intrinsics: Intrinsics
    size: tuple[int, int]
    """(width, height) of the frame in px."""

    def patch_centre_mm(self, view: ViewConditions) -> NDArray[np.float64]:
        """Return the patch centre in the camera frame, mm: ``distance_m`` along the ray
        through the frame point that the offsets name."""
        width, height = self.size
        matrix = self.intrinsics.camera_matrix
        pixel = np.array(
            [
                matrix[0, 2] + view.offset_x * width / 2.0,
                matrix[1, 2] + view.offset_y * height / 2.0,
                1.0,
            ]
        )
        ray = np.linalg.solve(matrix, pixel)
        return np.asarray(ray / np.linalg.norm(ray) * view.distance_m * 1000.0, dtype=np.float64)

    def image_from_plane(self, sheet: PrintedSheet, view: ViewConditions) -> NDArray[np.float64]:
        """Return the (3, 3) homography from content-frame mm (z = 0) to frame px."""
        camera_from_patch = rotation(view.yaw_deg, view.pitch_deg, view.roll_deg)
        content_centre = np.array([sheet.frame.width_mm / 2, sheet.frame.height_mm / 2, 0.0])
        translation = self.patch_centre_mm(view) - camera_from_patch @ content_centre
        columns = np.column_stack([camera_from_patch[:, 0], camera_from_patch[:, 1], translation])
        return np.asarray(self.intrinsics.camera_matrix @ columns, dtype=np.float64)

    def render(
        self,
        background: NDArray[np.uint8],
        sheet: PrintedSheet | None,
        view: ViewConditions,
        rng: np.random.Generator,
        scene: str,
    ) -> tuple[NDArray[np.uint8], TrueConditions]:
        """Render one frame.

        Args:
            background: (H, W, 3) RGB scene at the frame size, see :func:`fit_background`.
            sheet: the printed sheet, or None for a clean frame (the scene alone; light on
                the sheet and the pose do not apply).
            view: the conditions of this frame.
            rng: source of the sensor noise.
            scene: the scene's name, stored in the truth.

        Returns:
            The (H, W, 3) BGR frame as a camera delivers it, and the conditions it shows.
        """
        frame = background.astype(np.float32) / 255.0
        truth = TrueConditions(
            scene=scene,
            defocus_px=view.defocus_px,
            noise=view.noise,
            jpeg_quality=view.jpeg_quality,
        )
        if sheet is not None:
            frame = self._composite(frame, sheet, view)
            centre = self.intrinsics.camera_matrix @ self.patch_centre_mm(view)
            truth = TrueConditions(
                scene=scene,
                yaw_deg=view.yaw_deg,
                pitch_deg=view.pitch_deg,
                roll_deg=view.roll_deg,
                distance_m=view.distance_m,
                centre_px=(float(centre[0] / centre[2]), float(centre[1] / centre[2])),
                brightness=view.brightness,
                contrast=view.contrast,
                gamma=view.gamma,
                defocus_px=view.defocus_px,
                noise=view.noise,
                jpeg_quality=view.jpeg_quality,
            )
        return _camera_effects(frame, view, rng), truth

    def _composite(
        self, frame: NDArray[np.float32], sheet: PrintedSheet, view: ViewConditions
    ) -> NDArray[np.float32]:
        width, height = self.size
        scale = SUPERSAMPLING
        # Frame pixel u covers supersampled pixels scale·u .. scale·u + scale - 1.
        supersampled_from_image = np.array(
            [[scale, 0, (scale - 1) / 2], [0, scale, (scale - 1) / 2], [0, 0, 1.0]]
        )
        transform = (
            supersampled_from_image @ self.image_from_plane(sheet, view) @ sheet.plane_from_sheet()
        )
        lit = light_sheet(sheet.rgb, view.contrast, view.brightness, view.gamma)
        coverage = np.ones(lit.shape[:2], np.float32)
        big = (width * scale, height * scale)
        # NOTE: bilinear sampling does not average a far, strongly minified sheet, so fine patch
        # texture can alias there. Markers are large blocks and alias much less.
        warped = cv2.warpPerspective(lit, transform, big, flags=cv2.INTER_LINEAR)
        covered = cv2.warpPerspective(coverage, transform, big, flags=cv2.INTER_LINEAR)
        warped = cv2.resize(warped, self.size, interpolation=cv2.INTER_AREA)
        covered = cv2.resize(covered, self.size, interpolation=cv2.INTER_AREA)[..., None]
        return np.asarray(frame * (1.0 - covered) + warped, dtype=np.float32)


def _camera_effects(
    frame: NDArray[np.float32], view: ViewConditions, rng: np.random.Generator
) -> NDArray[np.uint8]:
    if view.defocus_px > 0.05:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), view.defocus_px), dtype=np.float32)
    if view.noise > 0:
        frame = frame + rng.normal(0.0, view.noise, frame.shape).astype(np.float32)
    pixels = np.round(np.clip(frame, 0.0, 1.0) * 255.0).astype(np.uint8)
    bgr = np.ascontiguousarray(pixels[..., ::-1])
    if view.jpeg_quality < 100:
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, view.jpeg_quality])
        if ok:
            bgr = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)
    return bgr


def sheet_resolution(camera: VirtualCamera, nearest_m: float) -> float:
    """Return px per mm for the drawn sheet: twice the supersampled frame's at the nearest
    distance, between 2 and 12."""
    focal = float(camera.intrinsics.camera_matrix[0, 0])
    needed = 2.0 * SUPERSAMPLING * focal / (nearest_m * 1000.0)
    return float(min(12.0, max(2.0, needed)))
