"""Sampled physical conditions, one value per image of a batch."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from harness.patch.ranges import EotRanges, Span


@dataclass(frozen=True)
class Conditions:
    """Per-image conditions of a batch; every field is a (B,) float tensor.

    Units follow :class:`harness.patch.ranges.EotRanges`. ``x`` and ``y`` are the patch
    position as fractions of the free space; ``motion_px`` is shared by the batch.
    """

    yaw_deg: torch.Tensor
    pitch_deg: torch.Tensor
    roll_deg: torch.Tensor
    area: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    brightness: torch.Tensor
    contrast: torch.Tensor
    gamma: torch.Tensor
    defocus_px: torch.Tensor
    motion_px: torch.Tensor
    motion_angle_deg: torch.Tensor
    noise: torch.Tensor
    jpeg_quality: torch.Tensor

    def __len__(self) -> int:
        return int(self.yaw_deg.shape[0])

    def rows(self) -> list[dict[str, float]]:
        """Return one dict of plain floats per image, for JSON."""
        columns = {f.name: getattr(self, f.name).detach().cpu().tolist() for f in fields(self)}
        return [
            {name: float(values[i]) for name, values in columns.items()} for i in range(len(self))
        ]


def _uniform(
    span: Span, batch: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    unit = torch.rand(batch, generator=generator, device=device)
    return span.low + (span.high - span.low) * unit


def sample_conditions(
    ranges: EotRanges, batch: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> Conditions:
    """Draw ``batch`` conditions uniformly from ``ranges`` with ``generator`` (same device)."""
    device = torch.device(device)

    def draw(span: Span) -> torch.Tensor:
        return _uniform(span, batch, generator, device)

    # One motion-blur length per batch keeps the blur a single batched convolution.
    motion = float(draw(ranges.motion_px)[0])
    return Conditions(
        yaw_deg=draw(ranges.yaw_deg),
        pitch_deg=draw(ranges.pitch_deg),
        roll_deg=draw(ranges.roll_deg),
        area=draw(ranges.area),
        x=draw(ranges.position),
        y=draw(ranges.position),
        brightness=draw(ranges.brightness),
        contrast=draw(ranges.contrast),
        gamma=draw(ranges.gamma),
        defocus_px=draw(ranges.defocus_px),
        motion_px=torch.full((batch,), motion, device=device),
        motion_angle_deg=draw(Span(0.0, 180.0)),
        noise=draw(ranges.noise),
        jpeg_quality=draw(ranges.jpeg_quality),
    )
