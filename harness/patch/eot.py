"""Expectation over transformation: render a printed patch into scenes as a camera sees it.

Athalye et al., "Synthesizing Robust Adversarial Examples", ICML 2018,
https://arxiv.org/abs/1707.07397; the patch setting follows Brown et al., "Adversarial
Patch", 2017, https://arxiv.org/abs/1712.09665.

The order mirrors the physical chain: digital patch → printer and camera colour (profile) →
light on the paper (brightness, contrast, gamma) → 3D pose and perspective → composited
over the unwarped scene → camera defocus, motion blur, sensor noise and JPEG on the frame.
Every step runs batched on the tensors' device and is differentiable in the patch.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from kornia.enhance import jpeg_codec_differentiable
from kornia.filters import gaussian_blur2d, motion_blur
from kornia.geometry.transform import warp_perspective

from harness.patch.conditions import Conditions
from harness.patch.geometry import frame_from_patch


class ColorMapping(Protocol):
    """A printer+camera colour profile: maps (B, 3, H, W) digital colour to captured colour."""

    def apply(self, images: torch.Tensor) -> torch.Tensor: ...


def light_patch(patch: torch.Tensor, conditions: Conditions) -> torch.Tensor:
    """Apply per-image contrast, brightness and gamma to (B, 3, H, W) patches in [0, 1]."""
    contrast = conditions.contrast.view(-1, 1, 1, 1)
    brightness = conditions.brightness.view(-1, 1, 1, 1)
    gamma = conditions.gamma.view(-1, 1, 1, 1)
    lit = ((patch - 0.5) * contrast + 0.5 + brightness).clamp(1e-4, 1.0)
    return lit**gamma


def camera_effects(
    frames: torch.Tensor, conditions: Conditions, generator: torch.Generator | None
) -> torch.Tensor:
    """Apply defocus, motion blur, noise and JPEG to (B, 3, S, S) frames in [0, 1]."""
    batch = frames.shape[0]

    # Defocus: one Gaussian kernel size for the batch, a sigma per image.
    largest = float(conditions.defocus_px.max())
    if largest > 0.05:
        size = 2 * math.ceil(3 * largest) + 1
        sigma = conditions.defocus_px.clamp_min(1e-3).view(-1, 1).expand(batch, 2)
        frames = gaussian_blur2d(frames, (size, size), sigma)

    # Motion: the batch shares a length (odd kernel), each image has its own direction.
    length = round(float(conditions.motion_px[0]))
    if length >= 2:
        size = length + 1 if length % 2 == 0 else length
        frames = motion_blur(
            frames, size, conditions.motion_angle_deg, torch.zeros_like(conditions.motion_angle_deg)
        )

    if float(conditions.noise.max()) > 0:
        noise = torch.randn(
            frames.shape, generator=generator, device=frames.device, dtype=frames.dtype
        )
        frames = frames + noise * conditions.noise.view(-1, 1, 1, 1)
    frames = frames.clamp(0.0, 1.0)

    if float(conditions.jpeg_quality.min()) < 100:
        frames = jpeg_codec_differentiable(frames, conditions.jpeg_quality.to(frames.dtype))
    return frames.clamp(0.0, 1.0)


def render(
    scenes: torch.Tensor,
    patch: torch.Tensor,
    mask: torch.Tensor,
    conditions: Conditions,
    *,
    colour: ColorMapping | None = None,
    fov_deg: float = 60.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Render the printed patch into each scene under its conditions.

    Args:
        scenes: (B, 3, S, S) scene images in [0, 1]; they are not warped.
        patch: (3, H, W) digital patch in [0, 1] (gradients flow back to it).
        mask: (1, H, W) patch shape in [0, 1] (1 = printed, 0 = cut away).
        conditions: (B,) conditions, see :class:`Conditions`.
        colour: printer+camera colour profile; None keeps digital colour.
        fov_deg: camera field of view that turns pose into perspective, degrees.
        generator: random source of the sensor noise, on the scenes' device.

    Returns:
        (B, 3, S, S) frames in [0, 1].
    """
    batch, _, size, _ = scenes.shape
    patches = patch.unsqueeze(0).expand(batch, -1, -1, -1)
    if colour is not None:
        patches = colour.apply(patches)
    patches = light_patch(patches, conditions)

    _, transform = frame_from_patch(conditions, (patch.shape[1], patch.shape[2]), size, fov_deg)
    layers = torch.cat([patches, mask.unsqueeze(0).expand(batch, -1, -1, -1)], dim=1)
    warped = warp_perspective(layers, transform, (size, size), align_corners=True)
    printed, coverage = warped[:, :3], warped[:, 3:4]

    frames = scenes * (1.0 - coverage) + printed * coverage
    return camera_effects(frames, conditions, generator)
