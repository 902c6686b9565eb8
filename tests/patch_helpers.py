"""Conditions with known values for the patch tests."""

import torch

from harness.patch.conditions import Conditions

NEUTRAL = {
    "yaw_deg": 0.0,
    "pitch_deg": 0.0,
    "roll_deg": 0.0,
    "area": 0.25,
    "x": 0.5,
    "y": 0.5,
    "brightness": 0.0,
    "contrast": 1.0,
    "gamma": 1.0,
    "defocus_px": 0.0,
    "motion_px": 0.0,
    "motion_angle_deg": 0.0,
    "noise": 0.0,
    "jpeg_quality": 100.0,
}
"""A fronto-parallel patch over a quarter of the frame, centred, with no light or camera effect."""


def neutral_conditions(batch: int, **values: float) -> Conditions:
    """Return ``batch`` copies of :data:`NEUTRAL` with ``values`` changed."""
    settings = {**NEUTRAL, **values}
    return Conditions(**{name: torch.full((batch,), value) for name, value in settings.items()})
