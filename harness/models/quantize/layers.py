"""Quantized conv and linear layers, and the module surgery that installs them.

:class:`QuantizedLayer` wraps an existing ``nn.Conv2d`` or ``nn.Linear`` (subclasses
included, so a conv that pads inside its own ``forward`` keeps its padding). Weights are
rounded to their grid once, when the variant is built. A call only rounds the input
activations, so inference costs about what the float layer costs. Gradients pass the
roundings straight through, as patch optimisation needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum

import torch
from torch import nn
from torch.func import functional_call

from harness.models.quantize.grid import (
    FLOAT_BITS,
    ActivationGrid,
    quantize_weight,
    weight_qmax,
    weight_scale,
)
from harness.models.quantize.observers import Observer, ObserverKind


class LayerMode(Enum):
    """Behaviour of a quantized layer's forward pass."""

    FLOAT = "float"
    """Float input, grid weights: used while observing activation ranges."""

    QUANTIZED = "quantized"
    """Input rounded to the activation grid, grid weights: normal inference."""

    TRAIN = "train"
    """Learnable weight and activation scales (LSQ) over latent float weights: distillation."""


class QuantizedLayer(nn.Module):
    """A conv or linear layer that computes with b-bit weights and a-bit input activations.

    Buffers ``weight_scale`` (C_out,), ``act_scale`` () and ``act_zero_point`` () describe the
    grids, so a checkpoint of a quantized model is an ordinary state dict.
    """

    weight_scale: torch.Tensor
    act_scale: torch.Tensor
    act_zero_point: torch.Tensor
    latent_weight: nn.Parameter
    learned_weight_scale: nn.Parameter
    learned_act_scale: nn.Parameter

    def __init__(
        self,
        layer: nn.Conv2d | nn.Linear,
        weight_bits: int,
        act_bits: int,
        *,
        scale_search: bool = False,
    ) -> None:
        super().__init__()
        self.layer = layer
        self.weight_bits = weight_bits
        self.act_bits = act_bits
        self.scale_search = scale_search
        self.mode = LayerMode.FLOAT
        self.observer: Observer | None = None

        # NOTE: the float weights live outside the state dict; they are needed only while a
        # method (GPTQ, bias correction, QAT) still changes the grid weights.
        self.float_weight: torch.Tensor | None = layer.weight.detach().clone()
        channels = layer.weight.shape[0]
        self.register_buffer("weight_scale", torch.ones(channels))
        self.register_buffer("act_scale", torch.tensor(1.0))
        self.register_buffer("act_zero_point", torch.tensor(0, dtype=torch.int32))
        self.round_weights()

    @property
    def quantizes_weights(self) -> bool:
        """Whether the weights are on an integer grid (not float)."""
        return self.weight_bits != FLOAT_BITS

    @property
    def quantizes_activations(self) -> bool:
        """Whether the input is rounded to an integer grid (not float)."""
        return self.act_bits != FLOAT_BITS

    @property
    def act_qmax(self) -> int:
        """Largest activation level."""
        return int(2**self.act_bits - 1)

    def activation_grid(self) -> ActivationGrid:
        """Return the current input grid."""
        return ActivationGrid(float(self.act_scale), int(self.act_zero_point), self.act_bits)

    def set_activation_grid(self, grid: ActivationGrid) -> None:
        """Install an input grid chosen by calibration."""
        self.act_scale.fill_(grid.scale)
        self.act_zero_point.fill_(grid.zero_point)

    def round_weights(self, weight: torch.Tensor | None = None) -> None:
        """Round ``weight`` (default: the float weights) to the grid and store it in the layer."""
        source = self.float_weight if weight is None else weight
        if source is None:
            raise RuntimeError("float weights were released; the grid weights are final")
        if not self.quantizes_weights:
            self.layer.weight.data.copy_(source)
            return
        scale = weight_scale(source, self.weight_bits, search=self.scale_search)
        self.set_grid_weights(quantize_weight(source, scale, self.weight_bits), scale)

    def set_grid_weights(self, weight: torch.Tensor, scale: torch.Tensor) -> None:
        """Store weights that are already on the grid of the (C_out,) ``scale``."""
        self.weight_scale.copy_(scale)
        self.layer.weight.data.copy_(weight)

    def release_float_weights(self) -> None:
        """Drop the float weights once the grid weights are final."""
        self.float_weight = None

    def start_observing(self, kind: ObserverKind) -> None:
        """Switch to float inputs and record their range."""
        self.mode = LayerMode.FLOAT
        self.observer = Observer(kind)

    def finish_observing(self) -> None:
        """Install the observed grid and switch to quantized inference."""
        if self.observer is not None and self.quantizes_activations:
            self.set_activation_grid(self.observer.grid(self.act_bits))
        self.observer = None
        self.mode = LayerMode.QUANTIZED

    def quantize_input(self, x: torch.Tensor) -> torch.Tensor:
        """Round ``x`` to the input grid (identity for float activations)."""
        if not self.quantizes_activations:
            return x
        if torch.onnx.is_in_onnx_export():
            # ONNX's QuantizeLinear only knows 8-bit ranges, so any width exports as
            # Div, Round, Add, Clip, Sub, Mul: the same rounding (half to even), in float.
            zero_point = self.act_zero_point.to(x.dtype)
            levels = torch.clamp(torch.round(x / self.act_scale) + zero_point, 0, self.act_qmax)
            return (levels - zero_point) * self.act_scale
        return torch.fake_quantize_per_tensor_affine(
            x, self.act_scale, self.act_zero_point, 0, self.act_qmax
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode is LayerMode.QUANTIZED:
            output: torch.Tensor = self.layer(self.quantize_input(x))
            return output
        if self.mode is LayerMode.TRAIN:
            return self._forward_train(x)

        if self.observer is not None:
            self.observer.update(x)
        output = self.layer(x)
        return output

    # Learned step size quantization: Esser et al., "Learned Step Size Quantization", ICLR 2020,
    # https://arxiv.org/abs/1902.08153. Both scales get gradients scaled by 1/sqrt(n * qmax).

    def start_training(self) -> None:
        """Switch to LSQ training: latent float weights and learnable scales become parameters."""
        # Training starts from the current grid weights, so it refines what PTQ or GPTQ found.
        self.latent_weight = nn.Parameter(self.layer.weight.detach().clone())
        self.learned_weight_scale = nn.Parameter(self.weight_scale.clone())
        self.learned_act_scale = nn.Parameter(self.act_scale.clone())
        self.mode = LayerMode.TRAIN

    def finish_training(self) -> None:
        """Bake the trained weights onto their grid and return to quantized inference."""
        with torch.no_grad():
            scale = self.learned_weight_scale.abs().clamp_min(1e-12)
            latent = self.latent_weight.detach()
            if self.quantizes_weights:
                self.weight_scale.copy_(scale)
                self.layer.weight.data.copy_(quantize_weight(latent, scale, self.weight_bits))
            else:
                self.layer.weight.data.copy_(latent)
            self.float_weight = latent.clone()
            self.act_scale.copy_(self.learned_act_scale.detach().abs().clamp_min(1e-12))
        del self.latent_weight, self.learned_weight_scale, self.learned_act_scale
        self.mode = LayerMode.QUANTIZED

    def _forward_train(self, x: torch.Tensor) -> torch.Tensor:
        if self.quantizes_activations:
            zero_point = self.act_zero_point.to(x.dtype)
            step = _scale_gradient(
                self.learned_act_scale.abs(), (x[0].numel() * self.act_qmax) ** -0.5
            )
            levels = torch.clamp(_round_ste(x / step) + zero_point, 0, self.act_qmax)
            x = (levels - zero_point) * step

        weight: torch.Tensor = self.latent_weight
        if self.quantizes_weights:
            qmax = weight_qmax(self.weight_bits)
            shape = (-1,) + (1,) * (weight.dim() - 1)
            factor = (weight[0].numel() * qmax) ** -0.5
            step = _scale_gradient(self.learned_weight_scale.abs(), factor).view(shape)
            weight = torch.clamp(_round_ste(weight / step), -qmax, qmax) * step

        parameters = {"weight": weight}
        output: torch.Tensor = functional_call(self.layer, parameters, (x,))
        return output


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def _scale_gradient(x: torch.Tensor, factor: float) -> torch.Tensor:
    return (x - x * factor).detach() + x * factor


def quantizable_layers(model: nn.Module) -> Iterator[tuple[str, nn.Conv2d | nn.Linear]]:
    """Yield every conv and linear layer (subclasses included) that is not wrapped yet."""
    for name, module in model.named_modules():
        if isinstance(module, QuantizedLayer):
            continue
        if isinstance(module, nn.Conv2d | nn.Linear) and not _inside_wrapper(model, name):
            yield name, module


def _inside_wrapper(model: nn.Module, name: str) -> bool:
    parts = name.split(".")
    for end in range(1, len(parts)):
        if isinstance(model.get_submodule(".".join(parts[:end])), QuantizedLayer):
            return True
    return False


def quantized_layers(model: nn.Module) -> list[QuantizedLayer]:
    """Return the installed quantized layers in module order."""
    return [m for m in model.modules() if isinstance(m, QuantizedLayer)]


def execution_order(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Return the names of conv and linear layers in the order one forward pass calls them."""
    order: list[str] = []
    handles = []
    for name, layer in quantizable_layers(model):
        handles.append(layer.register_forward_pre_hook(lambda _m, _x, n=name: order.append(n)))
    try:
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
    return list(dict.fromkeys(order))


def install_quantized_layers(
    model: nn.Module,
    example: torch.Tensor,
    *,
    weight_bits: int,
    act_bits: int,
    first_last_bits: int | None = None,
    scale_search: bool = False,
) -> list[QuantizedLayer]:
    """Replace every conv and linear layer of ``model`` by a :class:`QuantizedLayer`, in place.

    Args:
        model: float model; its layers are replaced in their parent modules.
        example: (1, 3, S, S) input used once to find the order layers run in.
        weight_bits, act_bits: widths, 2..16 or 32 for float.
        first_last_bits: width of the first and last layer when they should differ (e.g. 8).
        scale_search: choose weight scales by rounding error instead of the channel maximum.

    Returns:
        The quantized layers in execution order.

    Raises:
        RuntimeError: a conv or linear layer was not reached by the forward pass. Its
            position is then unknown, and skipping it silently would misreport the model.
    """
    names = [name for name, _ in quantizable_layers(model)]
    order = execution_order(model, example)
    unreached = sorted(set(names) - set(order))
    if unreached:
        raise RuntimeError(f"layers never called in a forward pass: {unreached}")

    installed = []
    for position, name in enumerate(order):
        layer = model.get_submodule(name)
        assert isinstance(layer, nn.Conv2d | nn.Linear)
        edge = position in (0, len(order) - 1)
        bits = (
            (first_last_bits, first_last_bits)
            if edge and first_last_bits
            else (weight_bits, act_bits)
        )
        wrapper = QuantizedLayer(layer, *bits, scale_search=scale_search)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, wrapper)
        installed.append(wrapper)
    return installed
