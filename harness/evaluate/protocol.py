"""Targeted attack success of universal patches at random placements, repeated over seeds.

The protocol follows Brown et al., "Adversarial Patch", 2017 (https://arxiv.org/abs/1712.09665):
one patch for every scene, pasted at a random position and scale, success = the top-1
class is the target. Each repeat draws new placements with its own seed. Within a repeat
every variant and every patch gets the same placements, so the columns of the transfer
matrix differ only by the variant and its rows only by the patch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from harness.patch.apply import LoadedPatch
from harness.patch.conditions import Conditions, sample_conditions
from harness.patch.eot import ColorMapping, render
from harness.patch.ranges import EotRanges, Span

logger = logging.getLogger(__name__)

Model = Callable[[torch.Tensor], torch.Tensor]
"""Maps (B, 3, S, S) images in [0, 1] to (B, K) logits."""


def placement_ranges(area: Span = Span(0.06, 0.16), roll_deg: Span = Span(0.0, 0.0)) -> EotRanges:
    """Return ranges of a digital placement: position anywhere, area in ``area`` (fraction of
    the image), in-plane rotation in ``roll_deg``, no 3D pose, light or camera effect."""
    return EotRanges.geometry_only(
        yaw_deg=Span(0.0, 0.0),
        pitch_deg=Span(0.0, 0.0),
        roll_deg=roll_deg,
        area=area,
        position=Span(0.0, 1.0),
    )


@dataclass(frozen=True, kw_only=True)
class ProtocolSettings:
    """Repeats, seeds and placement ranges of the protocol."""

    repeats: int = 10
    """Placements per scene, each drawn with its own seed."""

    seed: int = 0
    """Seed of the first repeat; repeat r uses ``seed + r``."""

    ranges: EotRanges = field(default_factory=placement_ranges)
    batch_size: int = 32


@dataclass(frozen=True)
class PatchUnderTest:
    """A patch, its target and where it came from."""

    label: str
    """Row name in the transfer matrix: the variants the patch was made on, or its file."""

    patch: LoadedPatch
    target: int


@dataclass(frozen=True)
class SuccessRuns:
    """Attack success of one patch on one variant, one rate per repeat."""

    rates: tuple[float, ...]
    """Fraction of the eligible scenes whose top-1 class was the target, per repeat."""

    scenes: int
    """Eligible scenes per repeat."""

    @property
    def mean(self) -> float:
        """Mean rate over the repeats."""
        return float(np.mean(self.rates))

    @property
    def std(self) -> float:
        """Sample standard deviation over the repeats (0 for one repeat)."""
        return float(np.std(self.rates, ddof=1)) if len(self.rates) > 1 else 0.0


def eligible_scenes(
    labels: torch.Tensor | None, clean_top1: torch.Tensor, target: int
) -> torch.Tensor:
    """Return a (N,) bool mask of scenes the attack can succeed on: not already the target.

    With labels a scene of the target class is left out. Without labels a scene that the
    float model already classifies as the target is left out.
    """
    if labels is not None:
        return labels != target
    return clean_top1 != target


def placements(settings: ProtocolSettings, count: int, repeat: int) -> Conditions:
    """Draw the (count,) placements of repeat ``repeat``; the same for every patch and variant."""
    generator = torch.Generator().manual_seed(settings.seed + repeat)
    return sample_conditions(settings.ranges, count, generator)


def _batches(count: int, size: int) -> Iterator[slice]:
    for start in range(0, count, size):
        yield slice(start, min(count, start + size))


def attack_success(
    models: Sequence[tuple[str, Model]],
    scenes: torch.Tensor,
    under_test: PatchUnderTest,
    settings: ProtocolSettings,
    *,
    colour: ColorMapping | None = None,
    on_batch: Callable[[], None] | None = None,
) -> dict[str, SuccessRuns]:
    """Render the patch into every scene ``settings.repeats`` times and count successes.

    Args:
        models: (name, model) pairs; every model classifies the same rendered frames.
        scenes: (N, 3, S, S) eligible scenes in [0, 1].
        under_test: the patch and its target.
        settings: repeats, seeds, ranges and batch size.
        colour: printer+camera colour profile; None keeps digital colour.
        on_batch: called after each rendered batch (progress).

    Returns:
        The success runs per model name.
    """
    hits = {name: [0] * settings.repeats for name, _ in models}
    patch = under_test.patch
    for repeat in range(settings.repeats):
        conditions = placements(settings, len(scenes), repeat)
        generator = torch.Generator().manual_seed(settings.seed + repeat)
        for batch in _batches(len(scenes), settings.batch_size):
            frames = render(
                scenes[batch],
                patch.image,
                patch.mask,
                _select(conditions, batch),
                colour=colour,
                fov_deg=settings.ranges.fov_deg,
                generator=generator,
            )
            for name, model in models:
                with torch.no_grad():
                    top1 = model(frames).argmax(dim=1)
                hits[name][repeat] += int((top1 == under_test.target).sum())
            if on_batch is not None:
                on_batch()

    count = max(1, len(scenes))
    return {
        name: SuccessRuns(rates=tuple(value / count for value in counts), scenes=len(scenes))
        for name, counts in hits.items()
    }


def _select(conditions: Conditions, batch: slice) -> Conditions:
    values = {name: getattr(conditions, name)[batch] for name in conditions.__dataclass_fields__}
    return Conditions(**values)
