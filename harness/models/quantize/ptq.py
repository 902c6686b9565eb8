"""Post-training calibration: choose each layer's activation grid from scene images."""

from __future__ import annotations

import logging

import torch
from torch import nn

from harness.models.quantize.layers import QuantizedLayer
from harness.models.quantize.observers import ObserverKind

logger = logging.getLogger(__name__)


def run_batches(model: nn.Module, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """Run (N, 3, S, S) images through ``model`` without gradients; return (N, K) logits."""
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            outputs.append(model(images[start : start + batch_size]))
    return torch.cat(outputs) if outputs else torch.empty(0)


def calibrate(
    model: nn.Module,
    layers: list[QuantizedLayer],
    images: torch.Tensor,
    observer: ObserverKind,
) -> None:
    """Observe every layer's input on ``images`` (N, 3, S, S) and install activation grids.

    Weights are already on their grids while observing, so each range reflects the
    quantized weights upstream; activations are observed in float.
    """
    for layer in layers:
        layer.start_observing(observer)
    run_batches(model, images)
    for layer in layers:
        layer.finish_observing()
    logger.debug(
        "calibrated %d layers on %d images with %s", len(layers), len(images), observer.value
    )
