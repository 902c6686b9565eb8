"""Attack success of a patch on held-out scenes, beside a random control patch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from harness.patch.apply import LoadedPatch
from harness.patch.conditions import sample_conditions
from harness.patch.eot import ColorMapping, render
from harness.patch.ranges import EotRanges


@dataclass(frozen=True)
class SuccessRates:
    """Success of the patch and of a random control patch under the same conditions."""

    patch: float
    """Fraction of rendered frames on which the attack succeeded."""

    control: float
    """The same fraction with a uniform-noise patch of the same shape: the clean rate."""

    frames: int


def success_rates(
    model: Callable[[torch.Tensor], torch.Tensor],
    scenes: torch.Tensor,
    patch: LoadedPatch,
    target: int | None,
    *,
    ranges: EotRanges,
    colour: ColorMapping | None = None,
    repeats: int = 4,
    seed: int = 1234,
    batch_size: int = 32,
) -> SuccessRates:
    """Render every scene ``repeats`` times under sampled conditions and count successes.

    A targeted attack succeeds when the top-1 class is ``target``. An untargeted attack
    succeeds when the top-1 class differs from the model's top-1 on the unpatched scene. The
    control patch sees exactly the same conditions and noise, so the two rates differ only by
    the patch content.

    Args:
        model: maps (B, 3, S, S) in [0, 1] to (B, K) logits.
        scenes: (N, 3, S, S) held-out scenes, never used to optimise the patch.
        patch: the patch to test.
        target: target class, or None for untargeted.
        ranges: condition ranges, usually those the patch was optimised under.
        colour: printer+camera colour profile.
        repeats: renders per scene.
        seed: seed of conditions, noise and the control patch.
        batch_size: frames per model call.
    """
    device = scenes.device
    generator = torch.Generator(device=device).manual_seed(seed)
    patch = LoadedPatch(patch.image.to(device), patch.mask.to(device))
    control_image = torch.rand(patch.image.shape, generator=generator, device=device)
    control = LoadedPatch(control_image, patch.mask)
    indices = torch.arange(len(scenes), device=device).repeat(repeats)

    hits = {"patch": 0, "control": 0}
    with torch.no_grad():
        clean = torch.cat(
            [model(scenes[i : i + batch_size]).argmax(1) for i in range(0, len(scenes), batch_size)]
        )
        for start in range(0, len(indices), batch_size):
            picks = indices[start : start + batch_size]
            conditions = sample_conditions(ranges, len(picks), generator, device)
            noise_state = generator.get_state()
            for name, candidate in (("patch", patch), ("control", control)):
                generator.set_state(noise_state)
                frames = render(
                    scenes[picks],
                    candidate.image,
                    candidate.mask,
                    conditions,
                    colour=colour,
                    fov_deg=ranges.fov_deg,
                    generator=generator,
                )
                top1 = model(frames).argmax(dim=1)
                success = top1 == target if target is not None else top1 != clean[picks]
                hits[name] += int(success.sum())

    total = len(indices)
    return SuccessRates(patch=hits["patch"] / total, control=hits["control"] / total, frames=total)
