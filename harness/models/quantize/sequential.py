"""Layer-by-layer passes: feed images up to one layer and capture what reaches it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


class _Reached(Exception):
    """Raised by a hook to end a forward pass once the layer of interest has its input."""


def capture_inputs(
    model: nn.Module, layer: nn.Module, images: torch.Tensor, batch_size: int = 16
) -> Iterator[torch.Tensor]:
    """Yield the input ``layer`` receives for each batch of (N, 3, S, S) ``images``.

    The forward pass stops at ``layer``, so a layer early in the network costs little. The
    caller may run ``layer`` itself on each yielded input: the hook only acts inside the pass.
    """
    captured: list[torch.Tensor] = []
    armed = False

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        if not armed:
            return
        captured.append(args[0].detach())
        raise _Reached

    handle = layer.register_forward_pre_hook(hook)
    try:
        for start in range(0, len(images), batch_size):
            captured.clear()
            armed = True
            with torch.no_grad(), contextlib.suppress(_Reached):
                model(images[start : start + batch_size])
            armed = False
            if captured:
                yield captured[0]
    finally:
        handle.remove()
