"""Integer grids: per-channel symmetric weights and per-tensor affine activations.

Weights of b bits use the narrow symmetric range [-(2^(b-1) - 1), 2^(b-1) - 1] with one scale
per output channel, so a channel contains at most 2^b - 1 distinct values. Activations of b bits
use the unsigned range [0, 2^b - 1] with a per-tensor scale and an integer zero point, which
keeps 0.0 exactly representable (zero padding stays exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FLOAT_BITS = 32
MIN_BITS = 2
MAX_BITS = 16


def weight_qmax(bits: int) -> int:
    """Return the largest integer of a narrow symmetric grid of ``bits`` bits."""
    return int(2 ** (bits - 1) - 1)


def weight_scale(weight: torch.Tensor, bits: int, *, search: bool = False) -> torch.Tensor:
    """Compute per-output-channel scales from the largest magnitude of each channel.

    Args:
        weight: (C_out, ...) conv or linear weight.
        bits: weight width, 2..16.
        search: shrink each channel's range to the factor in [0.3, 1] that minimises the
            channel's squared rounding error (clipping a few outliers helps at 2 to 5 bits).

    Returns:
        (C_out,) positive scales; an all-zero channel gets scale 1.
    """
    peak = weight.detach().abs().flatten(1).amax(dim=1)
    scale = peak / weight_qmax(bits)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    if not search:
        return scale

    flat = weight.detach().flatten(1)
    best_scale = scale.clone()
    best_error = torch.full_like(scale, float("inf"))
    for ratio in torch.linspace(0.3, 1.0, 36).tolist():
        candidate = scale * ratio
        error = (quantize_weight(flat, candidate, bits) - flat).pow(2).sum(dim=1)
        better = error < best_error
        best_scale = torch.where(better, candidate, best_scale)
        best_error = torch.where(better, error, best_error)
    return best_scale


def quantize_weight(weight: torch.Tensor, scale: torch.Tensor, bits: int) -> torch.Tensor:
    """Round (C_out, ...) weights to their channel's grid and return them dequantized."""
    shape = (-1,) + (1,) * (weight.dim() - 1)
    qmax = weight_qmax(bits)
    integers = torch.clamp(torch.round(weight / scale.view(shape)), -qmax, qmax)
    return integers * scale.view(shape)


@dataclass(frozen=True)
class ActivationGrid:
    """A per-tensor affine grid: ``x ≈ (q - zero_point) * scale`` with q in [0, 2^bits - 1]."""

    scale: float
    zero_point: int
    bits: int

    @property
    def qmax(self) -> int:
        """Largest integer level."""
        return int(2**self.bits - 1)

    @property
    def low(self) -> float:
        """Smallest representable value."""
        return -self.zero_point * self.scale

    @property
    def high(self) -> float:
        """Largest representable value."""
        return (self.qmax - self.zero_point) * self.scale


def activation_grid(low: float, high: float, bits: int) -> ActivationGrid:
    """Fit an affine grid of ``bits`` bits to the range [low, high], widened to include 0."""
    low = min(low, 0.0)
    high = max(high, 0.0)
    qmax = 2**bits - 1
    scale = (high - low) / qmax if high > low else 1.0
    zero_point = int(min(max(round(-low / scale), 0), qmax))
    return ActivationGrid(scale=float(scale), zero_point=zero_point, bits=bits)


def fake_quantize(x: torch.Tensor, grid: ActivationGrid) -> torch.Tensor:
    """Round ``x`` to ``grid`` and dequantize, with a straight-through gradient inside the range."""
    return torch.fake_quantize_per_tensor_affine(x, grid.scale, grid.zero_point, 0, grid.qmax)
