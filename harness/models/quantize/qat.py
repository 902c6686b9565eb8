"""Quantization-aware distillation: a short fine-tune of a quantized model towards fp32.

The student is the quantized model with learnable weight and activation scales (LSQ, see
:mod:`harness.models.quantize.layers`); the teacher is the float model. The loss is the
KL divergence between their softmax outputs on augmented scene images, so no labels are
needed (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015,
https://arxiv.org/abs/1503.02531). Only the weights and step sizes of the quantized layers
train; batch norm and everything outside the conv and linear layers stay frozen (training
the batch-norm scale and shift too cost 2 points of top-1 at W4A4 in a 300-step run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from harness.models.quantize.layers import QuantizedLayer

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DistillationSettings:
    """Budget and optimiser of a distillation run."""

    steps: int = 300
    """Optimiser steps."""

    batch_size: int = 16
    """Images per step."""

    learning_rate: float = 1e-4
    """Adam learning rate of weights and scales."""

    seed: int = 0
    """Seed of the augmentation and batch order."""


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Randomly crop, resize back, mirror and re-light (B, 3, S, S) images in [0, 1]."""
    batch, _, size, _ = images.shape
    out = torch.empty_like(images)
    for index in range(batch):
        fraction = float(torch.empty(1).uniform_(0.35, 1.0, generator=generator))
        side = max(8, round(size * fraction**0.5))
        top = int(torch.randint(0, size - side + 1, (1,), generator=generator))
        left = int(torch.randint(0, size - side + 1, (1,), generator=generator))
        crop = images[index : index + 1, :, top : top + side, left : left + side]
        crop = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False)
        if bool(torch.rand(1, generator=generator) < 0.5):
            crop = crop.flip(-1)
        out[index] = crop[0]

    brightness = torch.empty(batch, 1, 1, 1).uniform_(-0.1, 0.1, generator=generator)
    contrast = torch.empty(batch, 1, 1, 1).uniform_(0.8, 1.2, generator=generator)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    return ((out - mean) * contrast + mean + brightness).clamp(0.0, 1.0)


def distill(
    student: nn.Module,
    teacher: nn.Module,
    layers: list[QuantizedLayer],
    images: torch.Tensor,
    settings: DistillationSettings,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Fine-tune the quantized ``layers`` of ``student`` towards ``teacher`` on ``images``.

    Args:
        student: the quantized classifier; its layers are trained in place.
        teacher: the float classifier.
        layers: the student's quantized layers.
        images: (N, 3, S, S) scene images in [0, 1]; never the images accuracy is measured on.
        settings: budget and optimiser.
        on_step: called with (step, loss) after every step, for progress display.

    Returns:
        The loss of every step.
    """
    generator = torch.Generator().manual_seed(settings.seed)
    for layer in layers:
        layer.start_training()
    parameters = [p for layer in layers for p in layer.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(parameters, lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=settings.steps)

    losses: list[float] = []
    try:
        for step in range(settings.steps):
            picks = torch.randint(0, len(images), (settings.batch_size,), generator=generator)
            batch = augment(images[picks], generator)
            with torch.no_grad():
                target = F.log_softmax(teacher(batch), dim=1)
            output = F.log_softmax(student(batch), dim=1)
            loss = F.kl_div(output, target, log_target=True, reduction="batchmean")

            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if on_step is not None:
                on_step(step, losses[-1])
    finally:
        for layer in layers:
            layer.finish_training()
    return losses
