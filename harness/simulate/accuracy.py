"""Pose accuracy: the measured pose against the truth on simulated frames.

The angle error of a frame is the angle of the rotation that takes the true orientation
to the measured one (degrees), so it counts yaw, pitch and roll together. The distance
error is relative to the true distance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from harness.capture.session import Conditions, TrueConditions
from harness.simulate.camera import rotation


@dataclass(frozen=True, kw_only=True)
class PoseAccuracy:
    """Pose errors over the frames that show the sheet."""

    frames: int
    """Frames with the sheet in view."""

    measured: int
    """Of those, frames whose markers were found and a pose measured."""

    median_angle_deg: float
    """Median rotation angle between measured and true orientation, degrees (NaN without
    measured frames)."""

    median_distance_error: float
    """Median of |measured - true| / true distance (a fraction; NaN without measured frames)."""

    max_angle_deg: float
    max_distance_error: float

    def summary(self) -> str:
        """Return one line for logs and the command's output."""
        if not self.measured:
            return f"pose measured on 0 of {self.frames} frames with the sheet in view"
        return (
            f"pose measured on {self.measured} of {self.frames} frames: median angle error "
            f"{self.median_angle_deg:.2f}°, median distance error "
            f"{100 * self.median_distance_error:.2f} %"
        )


def angle_between(measured: tuple[float, float, float], true: tuple[float, float, float]) -> float:
    """Return the rotation angle in degrees between two (yaw, pitch, roll) orientations."""
    found = rotation(*measured)
    expected = rotation(*true)
    cosine = (float(np.trace(found.T @ expected)) - 1.0) / 2.0
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def pose_accuracy(
    frames: Iterable[tuple[Conditions | None, TrueConditions | None]],
) -> PoseAccuracy:
    """Compare measured and true pose on every frame that shows the sheet."""
    shown = 0
    angles: list[float] = []
    distances: list[float] = []
    for measured, truth in frames:
        true_pose = None if truth is None else _pose(truth)
        if truth is None or truth.distance_m is None or true_pose is None:
            continue
        shown += 1
        found_pose = None if measured is None else _pose(measured)
        if measured is None or measured.distance_m is None or found_pose is None:
            continue
        angles.append(angle_between(found_pose, true_pose))
        distances.append(abs(measured.distance_m - truth.distance_m) / truth.distance_m)

    nan = float("nan")
    return PoseAccuracy(
        frames=shown,
        measured=len(angles),
        median_angle_deg=float(np.median(angles)) if angles else nan,
        median_distance_error=float(np.median(distances)) if distances else nan,
        max_angle_deg=max(angles, default=nan),
        max_distance_error=max(distances, default=nan),
    )


def _pose(conditions: Conditions | TrueConditions) -> tuple[float, float, float] | None:
    yaw, pitch, roll = conditions.yaw_deg, conditions.pitch_deg, conditions.roll_deg
    if yaw is None or pitch is None or roll is None:
        return None
    return yaw, pitch, roll
