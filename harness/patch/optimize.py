"""The patch optimisation loop: one loop for targeted, untargeted and ensemble attacks.

Each step samples scenes and physical conditions, renders the patch into the scenes
(:mod:`harness.patch.eot`), runs every variant of the ensemble and descends
``Σ wᵢ · attack(variantᵢ) / Σ wᵢ + λ_nps · NPS + λ_tv · TV`` with Adam, keeping the patch
in [0, 1]. Gradients reach the patch straight through the quantizers of fake-quant variants.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from harness.patch.conditions import sample_conditions
from harness.patch.eot import ColorMapping, render
from harness.patch.losses import non_printability, targeted_loss, total_variation, untargeted_loss
from harness.patch.ranges import EotRanges

logger = logging.getLogger(__name__)

Model = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class OptimiseSettings:
    """Budget, objective and regularisers of one optimisation run."""

    target: int | None
    """Target class index, or None for an untargeted patch."""

    steps: int = 500
    batch_size: int = 8
    """Scenes per step."""

    learning_rate: float = 0.02
    """Adam step size in [0, 1] pixel units."""

    nps_weight: float = 0.05
    """Weight λ_nps of the non-printability score."""

    tv_weight: float = 0.5
    """Weight λ_tv of the total variation."""

    seed: int = 0
    checkpoint_every: int = 50
    """Steps between checkpoints (0 disables them)."""

    ranges: EotRanges = field(default_factory=EotRanges)


@dataclass
class StepRecord:
    """Losses and success of one optimisation step."""

    step: int
    loss: float
    attack: float
    nps: float
    tv: float
    success: float
    """Fraction of (image, variant) pairs of this step's batch that the patch fooled."""


def optimise_patch(
    models: Sequence[tuple[Model, float]],
    scenes: torch.Tensor,
    mask: torch.Tensor,
    settings: OptimiseSettings,
    *,
    colour: ColorMapping | None = None,
    palette: torch.Tensor | None = None,
    checkpoint: Path | None = None,
    resume: bool = False,
    on_step: Callable[[StepRecord], None] | None = None,
) -> tuple[torch.Tensor, list[StepRecord]]:
    """Optimise a patch against weighted models.

    Args:
        models: (model, weight) pairs; a model maps (B, 3, S, S) in [0, 1] to (B, K) logits
            and must be differentiable in its input.
        scenes: (N, 3, S, S) training scenes in [0, 1], on the device to run on.
        mask: (1, H, W) printed area of the patch; H, W is the optimisation resolution.
        settings: objective and budget.
        colour: printer+camera colour profile used by EOT.
        palette: (P, 3) printable colours for the NPS term (None skips NPS).
        checkpoint: file to save progress to every ``checkpoint_every`` steps.
        resume: continue from ``checkpoint`` when it exists.
        on_step: called after every step, for progress display.

    Returns:
        The (3, H, W) patch in [0, 1] and the per-step history.
    """
    device = scenes.device
    generator = torch.Generator(device=device).manual_seed(settings.seed)
    patch = torch.rand((3, *mask.shape[1:]), generator=generator, device=device)
    patch.requires_grad_(True)
    optimiser = torch.optim.Adam([patch], lr=settings.learning_rate)
    history: list[StepRecord] = []

    if resume and checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        with torch.no_grad():
            patch.copy_(state["patch"].to(device))
        optimiser.load_state_dict(state["optimiser"])
        generator.set_state(state["generator"])
        history = [StepRecord(**record) for record in state["history"]]
        logger.info("resumed from %s at step %d", checkpoint, len(history))

    clean_labels = _clean_labels(models, scenes, settings)
    total_weight = sum(weight for _, weight in models)
    mask = mask.to(device)

    for step in range(len(history), settings.steps):
        picks = torch.randint(
            0, len(scenes), (settings.batch_size,), generator=generator, device=device
        )
        conditions = sample_conditions(settings.ranges, settings.batch_size, generator, device)
        frames = render(
            scenes[picks],
            patch,
            mask,
            conditions,
            colour=colour,
            fov_deg=settings.ranges.fov_deg,
            generator=generator,
        )
        frames = frames.contiguous(memory_format=torch.channels_last)

        attack = torch.zeros((), device=device)
        fooled = 0.0
        for index, (model, weight) in enumerate(models):
            logits = model(frames)
            if settings.target is None:
                labels = clean_labels[index][picks]
                attack = attack + weight * untargeted_loss(logits, labels)
                fooled += float((logits.argmax(dim=1) != labels).float().mean())
            else:
                attack = attack + weight * targeted_loss(logits, settings.target)
                fooled += float((logits.argmax(dim=1) == settings.target).float().mean())
        attack = attack / total_weight

        nps = non_printability(patch, palette, mask) if palette is not None else torch.zeros(())
        tv = total_variation(patch)
        loss = attack + settings.nps_weight * nps + settings.tv_weight * tv

        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            patch.clamp_(0.0, 1.0)

        record = StepRecord(
            step=step,
            loss=float(loss.detach()),
            attack=float(attack.detach()),
            nps=float(nps.detach()),
            tv=float(tv.detach()),
            success=fooled / len(models),
        )
        history.append(record)
        if on_step is not None:
            on_step(record)
        if (
            checkpoint is not None
            and settings.checkpoint_every
            and (step + 1) % settings.checkpoint_every == 0
        ):
            _save_checkpoint(checkpoint, patch, optimiser, generator, history)

    return patch.detach(), history


def _clean_labels(
    models: Sequence[tuple[Model, float]], scenes: torch.Tensor, settings: OptimiseSettings
) -> list[torch.Tensor]:
    """Return each model's top-1 on the unpatched scenes, the reference of untargeted attacks."""
    if settings.target is not None:
        return []
    labels = []
    with torch.no_grad():
        for model, _ in models:
            outputs = [model(scenes[i : i + 32]).argmax(dim=1) for i in range(0, len(scenes), 32)]
            labels.append(torch.cat(outputs))
    return labels


def _save_checkpoint(
    path: Path,
    patch: torch.Tensor,
    optimiser: torch.optim.Optimizer,
    generator: torch.Generator,
    history: list[StepRecord],
) -> None:
    state: dict[str, Any] = {
        "patch": patch.detach().cpu().clone(),
        "optimiser": optimiser.state_dict(),
        "generator": generator.get_state(),
        "history": [asdict(record) for record in history],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(path)
