"""Activation range observers for post-training calibration: min-max, percentile and MSE.

Each observer records the float input of one layer over the calibration batches and then
proposes the grid for a bit width. Percentile and MSE keep a bounded random sample of the
values, so memory stays flat however many images are used.
"""

from __future__ import annotations

from enum import Enum

import torch

from harness.models.quantize.grid import ActivationGrid, activation_grid, fake_quantize

_SAMPLES_PER_BATCH = 1 << 16
_MAX_SAMPLES = 1 << 20


class ObserverKind(Enum):
    """Rule that chooses an activation range from calibration data."""

    MINMAX = "minmax"
    PERCENTILE = "percentile"
    MSE = "mse"


class Observer:
    """Collects the values of one activation tensor across calibration batches."""

    def __init__(self, kind: ObserverKind, *, percentile: float = 99.99, seed: int = 0) -> None:
        self.kind = kind
        self.percentile = percentile
        self.low = float("inf")
        self.high = float("-inf")
        self._samples: list[torch.Tensor] = []
        self._sample_count = 0
        self._generator = torch.Generator().manual_seed(seed)

    def update(self, x: torch.Tensor) -> None:
        """Record one batch of activations (any shape)."""
        values = x.detach().flatten().float().cpu()
        self.low = min(self.low, float(values.min()))
        self.high = max(self.high, float(values.max()))
        if self.kind is ObserverKind.MINMAX or self._sample_count >= _MAX_SAMPLES:
            return

        if values.numel() > _SAMPLES_PER_BATCH:
            picks = torch.randint(values.numel(), (_SAMPLES_PER_BATCH,), generator=self._generator)
            values = values[picks]
        self._samples.append(values)
        self._sample_count += values.numel()

    def grid(self, bits: int) -> ActivationGrid:
        """Return the activation grid of ``bits`` bits this observer chooses."""
        if self.low > self.high:
            raise RuntimeError("observer saw no data: run calibration batches first")
        if self.kind is ObserverKind.MINMAX:
            return activation_grid(self.low, self.high, bits)

        samples = torch.cat(self._samples)
        if self.kind is ObserverKind.PERCENTILE:
            fraction = self.percentile / 100.0
            low = float(torch.quantile(samples, 1.0 - fraction)) if self.low < 0 else 0.0
            high = float(torch.quantile(samples, fraction))
            return activation_grid(low, high, bits)
        return _mse_grid(samples, self.low, self.high, bits)


def _mse_grid(samples: torch.Tensor, low: float, high: float, bits: int) -> ActivationGrid:
    """Shrink the min-max range by the factor that minimises the quantisation MSE of ``samples``."""
    best = activation_grid(low, high, bits)
    best_error = float("inf")
    for ratio in torch.linspace(0.2, 1.0, 41).tolist():
        candidate = activation_grid(low * ratio, high * ratio, bits)
        error = float((fake_quantize(samples, candidate) - samples).pow(2).mean())
        if error < best_error:
            best, best_error = candidate, error
    return best
