"""Feature maps: the mean activation of chosen layers on clean and on patched inputs.

For each layer the output (B, C, H, W) is averaged over channels and images into one
(H, W) map. Comparing the clean and the patched map per bit width shows where the patch
takes over the activations and whether quantization spreads or damps it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from harness.errors import InvalidArgumentError

LAYER_COUNT = 4
"""Layers chosen by default, spread evenly over the model's depth."""


@dataclass(frozen=True)
class FeatureMaps:
    """Mean activation maps of one variant at its chosen layers."""

    clean: dict[str, torch.Tensor]
    """(H, W) mean activation per layer name on clean inputs."""

    patched: dict[str, torch.Tensor]
    """(H, W) mean activation per layer name on patched inputs."""


def default_layers(model: nn.Module) -> list[str]:
    """Pick ``LAYER_COUNT`` layer names spread over the depth of ``model``.

    The longest ``nn.ModuleList`` or ``nn.Sequential`` (the stages or blocks of most image
    classifiers) gives its children at even steps, its last child included. A model
    without one gives its convolutions the same way.
    """
    containers = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList | nn.Sequential) and len(module) >= LAYER_COUNT
    ]
    if containers:
        name, longest = max(containers, key=lambda item: len(item[1]))
        names = [f"{name}.{index}" if name else str(index) for index in range(len(longest))]
    else:
        names = [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    if not names:
        raise InvalidArgumentError(
            "the model has no convolutions or blocks to show: name layers with --layers"
        )
    picks = torch.linspace(0, len(names) - 1, min(LAYER_COUNT, len(names))).round().long()
    return [names[int(index)] for index in dict.fromkeys(picks.tolist())]


def check_layers(model: nn.Module, layers: list[str]) -> None:
    """Raise :class:`InvalidArgumentError` for a layer name that ``model`` does not have."""
    known = dict(model.named_modules())
    for layer in layers:
        if layer not in known:
            examples = ", ".join(default_layers(model))
            raise InvalidArgumentError(
                f"--layers: the model has no layer {layer!r}; use module names such as {examples}"
            )


def mean_activations(
    model: nn.Module, layers: list[str], images: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Run (B, 3, S, S) images through ``model`` and return each layer's (H, W) mean output.

    Raises:
        InvalidArgumentError: a layer name is not a module of ``model``.
    """
    check_layers(model, layers)
    modules = dict(model.named_modules())
    sums: dict[str, torch.Tensor] = {}

    def keep(name: str) -> object:
        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            sums[name] = output.detach().float().mean(dim=(0, 1)).cpu()

        return hook

    handles = [modules[layer].register_forward_hook(keep(layer)) for layer in layers]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    return {layer: sums[layer] for layer in layers}


def feature_maps(
    model: nn.Module, layers: list[str], clean: torch.Tensor, patched: torch.Tensor
) -> FeatureMaps:
    """Return the mean maps of ``layers`` on (B, 3, S, S) clean and patched images."""
    return FeatureMaps(
        clean=mean_activations(model, layers, clean),
        patched=mean_activations(model, layers, patched),
    )
