"""Empirical bias correction: cancel the mean output shift that rounding causes per channel.

Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias Correction",
ICCV 2019, https://arxiv.org/abs/1906.04721 (the empirical variant with calibration data).
Layers are corrected in execution order, so each correction also absorbs the shift left by
the already-corrected layers before it.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from harness.models.quantize.layers import QuantizedLayer
from harness.models.quantize.sequential import capture_inputs

logger = logging.getLogger(__name__)


def correct_biases(
    model: nn.Module,
    reference: nn.Module,
    layers: list[QuantizedLayer],
    images: torch.Tensor,
) -> None:
    """Add E[float output] - E[quantized output] to the bias of each layer in ``layers``.

    Args:
        model: the quantized model that owns ``layers`` (in execution order).
        reference: the float model it was made from; its layers have the same names.
        layers: quantized layers to correct.
        images: (N, 3, S, S) calibration images in [0, 1].
    """
    names = {id(module): name for name, module in model.named_modules()}
    for layer in layers:
        float_layer = reference.get_submodule(names[id(layer)])
        float_mean = _mean_output(reference, float_layer, images)
        quant_mean = _mean_output(model, layer, images)
        shift = float_mean - quant_mean

        inner = layer.layer
        if inner.bias is None:
            inner.bias = nn.Parameter(torch.zeros_like(shift), requires_grad=False)
        inner.bias.data += shift
    logger.debug("bias correction applied to %d layers", len(layers))


def _mean_output(model: nn.Module, layer: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Return the per-channel mean of ``layer``'s output within ``model``: shape (C_out,)."""
    total = torch.zeros(0, dtype=torch.float64)
    count = 0
    for inputs in capture_inputs(model, layer, images):
        with torch.no_grad():
            output = layer(inputs)
        channels = output.shape[1] if output.dim() > 2 else output.shape[-1]
        flat = output.transpose(0, 1).reshape(channels, -1) if output.dim() > 2 else output.t()
        batch_sum = flat.double().sum(dim=1)
        total = batch_sum if total.numel() == 0 else total + batch_sum
        count += flat.shape[1]
    return (total / max(count, 1)).float()
