"""GPTQ: round weights column by column and let the remaining columns absorb the error.

Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
Transformers", ICLR 2023, https://arxiv.org/abs/2210.17323. For each layer, the Hessian of the
layer-wise squared error is H = 2 X Xᵀ over the layer's (quantized) inputs; grouped and
depthwise convolutions get one Hessian per group. Layers run in execution order, each on the
inputs produced by the already-quantized layers before it.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

from harness.models.quantize.grid import weight_qmax, weight_scale
from harness.models.quantize.layers import QuantizedLayer
from harness.models.quantize.sequential import capture_inputs

logger = logging.getLogger(__name__)

_DAMPING = 0.01


def apply_gptq(model: nn.Module, layers: list[QuantizedLayer], images: torch.Tensor) -> None:
    """Requantize the weights of ``layers`` (in execution order) with GPTQ on ``images``."""
    for index, layer in enumerate(layers):
        if not layer.quantizes_weights or layer.float_weight is None:
            continue
        hessian = torch.zeros(0)
        for inputs in capture_inputs(model, layer, images):
            batch_hessian = _hessian(layer.layer, layer.quantize_input(inputs))
            hessian = batch_hessian if hessian.numel() == 0 else hessian + batch_hessian
        _quantize_layer(layer, hessian)
        logger.debug("GPTQ layer %d/%d done", index + 1, len(layers))


def _unfold(layer: nn.Conv2d | nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
    """Return the layer's input columns as (G, d, n): G groups, d inputs per output, n samples."""
    if isinstance(layer, nn.Linear):
        return inputs.reshape(-1, inputs.shape[-1]).t().unsqueeze(0)

    # NOTE: a conv that pads inside its forward is handled when it keeps the padding in a
    # `static_padding` child (EfficientNet's TensorFlow-style convs). Any other custom padding
    # is treated as none, which leaves border patches out of the Hessian.
    padding = getattr(layer, "static_padding", None)
    if isinstance(padding, nn.Module):
        inputs = padding(inputs)
    columns = F.unfold(
        inputs,
        kernel_size=layer.kernel_size,
        dilation=layer.dilation,
        padding=layer.padding if isinstance(layer.padding, tuple) else 0,
        stride=layer.stride,
    )
    batch, _, positions = columns.shape
    groups = layer.groups
    columns = columns.view(batch, groups, -1, positions)
    return columns.permute(1, 2, 0, 3).reshape(groups, columns.shape[2], batch * positions)


def _hessian(layer: nn.Conv2d | nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
    columns = _unfold(layer, inputs.detach())
    return (2.0 * columns @ columns.transpose(1, 2)).double()


def _quantize_layer(layer: QuantizedLayer, hessian: torch.Tensor) -> None:
    if layer.float_weight is None:
        return
    weight = layer.float_weight.double()
    shape = weight.shape
    groups = hessian.shape[0]
    columns = weight.reshape(groups, shape[0] // groups, -1).clone()

    scale = weight_scale(layer.float_weight, layer.weight_bits, search=layer.scale_search).double()
    group_scale = scale.view(groups, -1)
    qmax = weight_qmax(layer.weight_bits)

    # Inputs that never fire carry no information; fix their weights to zero.
    diagonal = hessian.diagonal(dim1=1, dim2=2)
    dead = diagonal == 0
    hessian = hessian.clone()
    hessian.diagonal(dim1=1, dim2=2)[dead] = 1.0
    columns.masked_fill_(dead.unsqueeze(1), 0.0)

    damping = _DAMPING * diagonal.mean(dim=1).clamp_min(1e-8)
    hessian.diagonal(dim1=1, dim2=2).add_(damping.unsqueeze(1))
    inverse = torch.cholesky_inverse(torch.linalg.cholesky(hessian))
    upper = torch.linalg.cholesky(inverse, upper=True)

    quantized = torch.zeros_like(columns)
    for i in range(columns.shape[2]):
        column = columns[:, :, i]
        rounded = torch.clamp(torch.round(column / group_scale), -qmax, qmax) * group_scale
        quantized[:, :, i] = rounded
        error = (column - rounded) / upper[:, i, i].unsqueeze(1)
        columns[:, :, i + 1 :] -= error.unsqueeze(2) * upper[:, i, i + 1 :].unsqueeze(1)

    layer.set_grid_weights(quantized.reshape(shape).float(), scale.float())
