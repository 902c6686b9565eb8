"""Clean-image measurements of variants: agreement with fp32, accuracy, latency."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

DEGENERATE_AGREEMENT = 0.5
"""Below this top-1 agreement with fp32 a variant is flagged degenerate: broken, not robust."""


def top1_agreement(logits: torch.Tensor, reference: torch.Tensor) -> float:
    """Return the fraction of rows whose top-1 class matches the reference's: both (N, K)."""
    if len(logits) == 0:
        return float("nan")
    return float((logits.argmax(dim=1) == reference.argmax(dim=1)).float().mean())


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """Return the fraction of (N, K) rows whose true label (N,) is among the k largest logits."""
    if len(logits) == 0:
        return float("nan")
    top = logits.topk(k, dim=1).indices
    return float((top == labels.unsqueeze(1)).any(dim=1).float().mean())


def is_degenerate(agreement: float) -> bool:
    """Return whether a variant with this fp32 agreement must be flagged as broken."""
    return agreement < DEGENERATE_AGREEMENT


def latency_ms(
    run: Callable[[torch.Tensor], torch.Tensor],
    input_size: int,
    *,
    batch_size: int = 1,
    repeats: int = 20,
    warmup: int = 3,
) -> float:
    """Return the median wall time of one call, per image, in ms (random input, no gradients)."""
    images = torch.rand(batch_size, 3, input_size, input_size)
    timings = []
    with torch.no_grad():
        for index in range(warmup + repeats):
            started = time.perf_counter()
            run(images)
            if index >= warmup:
                timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000.0 / batch_size
