"""Patch pose and viewing conditions of one frame, from the ArUco markers around the patch.

Convention: the patch's *content frame* of :mod:`harness.printing.markers` (mm, origin at
the patch's top-left corner, x right, y down, z into the sheet) and OpenCV's camera frame
(x right, y down, z forward). ``camera_from_patch`` rotates content-frame vectors into
the camera frame. Its angles follow patch generation (:mod:`harness.patch.geometry`):
``camera_from_patch = Rz(roll) · Ry(yaw) · Rx(pitch)``, so an upright patch facing the
camera has yaw, pitch and roll 0. Yaw turns it about the vertical axis, pitch tilts it
about the horizontal axis. Pixel coordinates have x right and y down with pixel centres
at integer coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.calibration.camera import CameraProfile
from harness.capture.session import CameraInfo, Conditions
from harness.printing.markers import MarkerFrame

DEFAULT_FOV_DEG = 60.0
"""Horizontal field of view assumed without a camera profile, degrees: a typical webcam
(an assumption, not a measurement; distances scale with it)."""


@dataclass(frozen=True, kw_only=True)
class Intrinsics:
    """The pinhole camera that the pose is computed with, at the frame size."""

    camera_matrix: NDArray[np.float64]
    """(3, 3) pinhole matrix in px."""

    distortion: NDArray[np.float64]
    """(5,) OpenCV distortion coefficients."""

    profile: str | None = None
    """Name of the camera profile, None when the field of view is assumed."""

    assumed_fov_deg: float | None = None
    """Horizontal field of view, degrees, when no profile is used."""

    @classmethod
    def assumed(cls, image_size: tuple[int, int], fov_deg: float) -> Intrinsics:
        """Return a distortion-free camera of horizontal field of view ``fov_deg``.

        Args:
            image_size: (width, height) in px.
            fov_deg: horizontal field of view in degrees, in (0, 180).
        """
        width, height = image_size
        focal = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
        matrix = np.array(
            [[focal, 0.0, (width - 1) / 2.0], [0.0, focal, (height - 1) / 2.0], [0.0, 0.0, 1.0]]
        )
        return cls(camera_matrix=matrix, distortion=np.zeros(5), assumed_fov_deg=fov_deg)

    @classmethod
    def from_profile(
        cls, profile: CameraProfile, image_size: tuple[int, int], name: str
    ) -> Intrinsics:
        """Return a profile's intrinsics scaled to frames of ``image_size`` (width, height) px.

        A camera that delivers a smaller or larger frame of the same sensor area scales its
        focal lengths and principal point with the frame. Distortion coefficients are
        unitless, so they stay.
        """
        scale_x = image_size[0] / profile.image_size[0]
        scale_y = image_size[1] / profile.image_size[1]
        matrix = profile.camera_matrix.astype(np.float64).copy()
        matrix[0, :] *= scale_x
        matrix[1, :] *= scale_y
        # Pixel centres sit at integers, so the principal point scales about -0.5.
        matrix[0, 2] = (profile.camera_matrix[0, 2] + 0.5) * scale_x - 0.5
        matrix[1, 2] = (profile.camera_matrix[1, 2] + 0.5) * scale_y - 0.5
        return cls(
            camera_matrix=matrix,
            distortion=np.asarray(profile.distortion, dtype=np.float64),
            profile=name,
        )

    def info(self) -> CameraInfo:
        """Return the session record of these intrinsics."""
        rows = [tuple(float(value) for value in row) for row in self.camera_matrix]
        return CameraInfo(
            profile=self.profile,
            camera_matrix=tuple((row[0], row[1], row[2]) for row in rows),
            distortion=tuple(float(value) for value in self.distortion.ravel()),
            assumed_fov_deg=self.assumed_fov_deg,
        )


@dataclass(frozen=True, kw_only=True)
class PatchPose:
    """The patch's orientation, distance and outline in one frame."""

    markers: tuple[int, ...]
    """Ids of the markers the pose rests on."""

    corners_px: NDArray[np.float64]
    """(4, 2) patch corners in the frame, top-left first and clockwise, in px."""

    area_px: float
    """Area of the patch's outline in the frame, in px."""

    sheet_box: tuple[int, int, int, int]
    """(left, top, right, bottom) in px around the markers and the patch, right and bottom
    exclusive, clipped to the frame."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    distance_m: float
    """Distance from the camera centre to the patch centre, in m."""


def estimate_pose(
    found: dict[int, NDArray[np.float32]],
    frame: MarkerFrame,
    intrinsics: Intrinsics,
    image_size: tuple[int, int],
) -> PatchPose | None:
    """Estimate the patch's pose from the markers of ``frame`` found in an image.

    Args:
        found: (4, 2) marker corners in px by marker id, as ``detect_markers`` returns them.
        frame: the printed marker geometry around the patch.
        intrinsics: the camera at the image's size.
        image_size: (width, height) of the image in px.

    Returns:
        The pose, or None when no marker of ``frame`` is among ``found``.
    """
    ids = tuple(sorted(marker_id for marker_id in found if marker_id in frame.ids))
    if not ids:
        return None
    object_points = np.concatenate([frame.marker_corners_mm(marker_id) for marker_id in ids])
    image_points = np.concatenate([found[marker_id] for marker_id in ids]).astype(np.float64)

    # The outline and area come from the plane's homography, which needs no intrinsics.
    image_from_plane, _ = cv2.findHomography(object_points[:, :2], image_points, 0)
    content = frame.content_corners_mm()[:, :2]
    projected = cv2.perspectiveTransform(content.reshape(-1, 1, 2), image_from_plane)
    corners = np.asarray(projected, dtype=np.float64).reshape(4, 2)

    # IPPE solves planar targets from four or more points, one marker included.
    # NOTE: with one small marker IPPE's two mirror solutions fit almost equally well, so the
    # angles can come out mirrored: a simulated frame at 0.9 m read yaw -45° for a true +30°.
    ok, rotation_vector, translation = cv2.solvePnP(
        object_points,
        image_points,
        intrinsics.camera_matrix,
        intrinsics.distortion,
        flags=cv2.SOLVEPNP_IPPE,
    )
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rotation_vector)
    camera_from_patch = np.asarray(rotation, dtype=np.float64)
    yaw, pitch, roll = euler_angles(camera_from_patch)
    centre = np.array([frame.width_mm / 2.0, frame.height_mm / 2.0, 0.0])
    centre_in_camera = camera_from_patch @ centre + np.asarray(translation).ravel()

    return PatchPose(
        markers=ids,
        corners_px=corners,
        area_px=polygon_area(corners),
        sheet_box=_box(np.concatenate([image_points, corners]), image_size),
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        distance_m=float(np.linalg.norm(centre_in_camera)) / 1000.0,
    )


def euler_angles(rotation: NDArray[np.float64]) -> tuple[float, float, float]:
    """Return (yaw, pitch, roll) in degrees of ``rotation = Rz(roll) · Ry(yaw) · Rx(pitch)``.

    Yaw is kept in [-90, 90]; at exactly ±90 degrees roll and pitch are not separable and
    roll is reported as 0.
    """
    sin_yaw = float(np.clip(-rotation[2, 0], -1.0, 1.0))
    yaw = math.asin(sin_yaw)
    if abs(sin_yaw) > 1.0 - 1e-9:
        pitch = math.atan2(rotation[0, 1] * sin_yaw, rotation[1, 1])
        roll = 0.0
    else:
        pitch = math.atan2(rotation[2, 1], rotation[2, 2])
        roll = math.atan2(rotation[1, 0], rotation[0, 0])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def polygon_area(points: NDArray[np.float64]) -> float:
    """Return the area of a simple polygon given as (N, 2) vertices in order (shoelace)."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def measure_conditions(
    grey: NDArray[np.uint8], pose: PatchPose | None, found: dict[int, NDArray[np.float32]]
) -> Conditions:
    """Return the conditions of one frame: luminance, sharpness and, with a pose, the pose.

    Args:
        grey: (H, W) luma of the frame.
        pose: the patch's pose in the frame, or None when no marker was found.
        found: every marker found, by id (only the patch's count as seen).
    """
    # Rounded to well below what the measurements resolve, to keep frames.jsonl short.
    luminance = round(float(grey.mean()) / 255.0, 5)
    region = grey
    if pose is not None:
        left, top, right, bottom = pose.sheet_box
        region = grey[top:bottom, left:right]
    sharpness = float(f"{_laplacian_variance(region):.5g}") if region.size else 0.0
    if pose is None:
        return Conditions(markers=(), luminance=luminance, sharpness=sharpness)
    return Conditions(
        markers=pose.markers,
        luminance=luminance,
        sharpness=sharpness,
        yaw_deg=round(pose.yaw_deg, 3),
        pitch_deg=round(pose.pitch_deg, 3),
        roll_deg=round(pose.roll_deg, 3),
        distance_m=round(pose.distance_m, 5),
        patch_area_px=round(pose.area_px, 1),
        patch_corners_px=tuple(
            (round(float(x), 2), round(float(y), 2)) for x, y in pose.corners_px
        ),
    )


def _laplacian_variance(grey: NDArray[np.uint8]) -> float:
    laplacian = cv2.Laplacian(grey.astype(np.float32) / 255.0, cv2.CV_32F)
    return float(laplacian.var())


def _box(points: NDArray[np.float64], image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = image_size
    left = int(np.clip(np.floor(points[:, 0].min()), 0, width))
    top = int(np.clip(np.floor(points[:, 1].min()), 0, height))
    right = int(np.clip(np.ceil(points[:, 0].max()) + 1, 0, width))
    bottom = int(np.clip(np.ceil(points[:, 1].max()) + 1, 0, height))
    return left, top, right, bottom
