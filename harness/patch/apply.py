"""Apply a saved patch to images, with no optimiser: the public entry point of the package.

>>> from harness.patch.apply import load_patch, apply_patch
>>> patch = load_patch("printables/3f2a9c0d1e4b")
>>> frames, conditions = apply_patch(images, patch)        # sampled conditions
>>> frames, _ = apply_patch(images, patch, conditions=conditions)  # same pose, new noise
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from harness.errors import DataError
from harness.patch.conditions import Conditions, sample_conditions
from harness.patch.eot import ColorMapping, render
from harness.patch.ranges import EotRanges


@dataclass(frozen=True)
class LoadedPatch:
    """A patch image and its printed area, ready to render."""

    image: torch.Tensor
    """(3, H, W) RGB in [0, 1]."""

    mask: torch.Tensor
    """(1, H, W) in [0, 1]; 1 where the patch is printed."""

    def resized(self, size: int) -> LoadedPatch:
        """Return the patch resampled to ``size`` px (area filter when shrinking)."""
        if self.image.shape[-1] == size:
            return self
        mode = "area" if self.image.shape[-1] > size else "bicubic"
        scale = torch.nn.functional.interpolate
        image = scale(self.image[None], size=(size, size), mode=mode)[0].clamp(0, 1)
        mask = scale(self.mask[None], size=(size, size), mode=mode)[0].clamp(0, 1)
        return LoadedPatch(image, mask)


def load_patch(folder: Path | str) -> LoadedPatch:
    """Read ``patch.png`` (and ``mask.png`` or the alpha channel) from a patch folder or file.

    Raises:
        DataError: the image is missing or unreadable.
    """
    path = Path(folder)
    image_path = path / "patch.png" if path.is_dir() else path
    try:
        with Image.open(image_path) as opened:
            rgba = np.asarray(opened.convert("RGBA"), dtype=np.float32) / 255.0
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read patch image {str(image_path)!r}: {error}") from error

    mask = rgba[..., 3]
    mask_path = image_path.with_name("mask.png")
    if mask_path.is_file():
        with Image.open(mask_path) as opened:
            mask = mask * (np.asarray(opened.convert("L"), dtype=np.float32) / 255.0)
    image = torch.from_numpy(rgba[..., :3].copy()).permute(2, 0, 1)
    return LoadedPatch(image, torch.from_numpy(mask.copy())[None])


def apply_patch(
    images: torch.Tensor,
    patch: LoadedPatch,
    *,
    conditions: Conditions | None = None,
    ranges: EotRanges | None = None,
    colour: ColorMapping | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Conditions]:
    """Composite ``patch`` into (B, 3, S, S) images in [0, 1] as a camera would see it.

    Args:
        images: scenes at the model's input size.
        patch: the patch; see :func:`load_patch`.
        conditions: per-image conditions to use; sampled from ``ranges`` when None.
        ranges: sampling ranges (default :class:`EotRanges`).
        colour: printer+camera colour profile (None keeps digital colour).
        generator: random source for sampling and sensor noise, on the images' device.

    Returns:
        The (B, 3, S, S) frames and the conditions they were rendered under.
    """
    ranges = ranges or EotRanges()
    generator = generator or torch.Generator(device=images.device).manual_seed(0)
    if conditions is None:
        conditions = sample_conditions(ranges, images.shape[0], generator, images.device)
    frames = render(
        images,
        patch.image.to(images),
        patch.mask.to(images),
        conditions,
        colour=colour,
        fov_deg=ranges.fov_deg,
        generator=generator,
    )
    return frames, conditions
