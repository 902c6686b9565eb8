"""Patch shapes: a square canvas and a soft-edged mask of the printed area."""

from __future__ import annotations

from enum import Enum

import torch

from harness.errors import InvalidArgumentError


class PatchShape(Enum):
    """Outline of the printed patch within its square canvas."""

    SQUARE = "square"
    CIRCLE = "circle"
    RECTANGLE = "rectangle"


def make_mask(shape: PatchShape, size: int, aspect: float = 1.0) -> torch.Tensor:
    """Return the (1, size, size) mask of ``shape``, 1 inside and 0 outside.

    A rectangle has width / height = ``aspect`` and fills the canvas along its longer side.
    Edges are anti-aliased over one pixel so the warp does not alias.

    Raises:
        InvalidArgumentError: ``aspect`` is not positive.
    """
    if aspect <= 0:
        raise InvalidArgumentError(f"patch aspect {aspect:g} is invalid: expected width/height > 0")
    centre = (size - 1) / 2.0
    coordinates = torch.arange(size, dtype=torch.float32) - centre
    y, x = torch.meshgrid(coordinates, coordinates, indexing="ij")

    if shape is PatchShape.SQUARE:
        return torch.ones(1, size, size)
    if shape is PatchShape.CIRCLE:
        inside = size / 2.0 - torch.sqrt(x**2 + y**2)
    else:
        half_width = size / 2.0 * min(1.0, aspect)
        half_height = size / 2.0 * min(1.0, 1.0 / aspect)
        inside = torch.minimum(half_width - x.abs(), half_height - y.abs())
    return (inside + 0.5).clamp(0.0, 1.0).unsqueeze(0)


COLLAPSE_STD = 0.03
"""A patch whose colour varies less than this (standard deviation) has collapsed to one colour."""


def colour_spread(patch: torch.Tensor, mask: torch.Tensor) -> float:
    """Return the largest per-channel standard deviation of the (3, H, W) patch inside its mask."""
    inside = patch[:, mask[0] > 0.5]
    if inside.shape[1] < 2:
        return 0.0
    return float(inside.std(dim=1).max())
