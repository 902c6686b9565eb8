"""Per variant, per phase and per condition bin: targeted success and misclassification.

Success is the fraction of frames whose top-1 class is the target. Misclassification is the
fraction whose top-1 differs from the clean reference (:mod:`harness.scoring.reference`).
The difference of a rate is the patch phase's minus the clean phase's, over the whole
clean phase also for the bins: the clean scene shows no patch, so it has no pose of its own
to bin by. Every rate has a Wilson 95 % interval, and the difference Newcombe's interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.capture.session import Phase
from harness.scoring.bins import BinEdges, Condition
from harness.scoring.intervals import Rate, difference_interval
from harness.scoring.outcomes import FrameOutcome


@dataclass(frozen=True, kw_only=True)
class PhaseStats:
    """A variant's rates over some frames of one phase."""

    frames: int
    success: Rate | None
    """None for an untargeted session."""

    misclassification: Rate | None
    """None without a reference label."""


@dataclass(frozen=True, kw_only=True)
class Difference:
    """Patch rate minus clean rate, with Newcombe's 95 % interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, kw_only=True)
class BinStats:
    """A variant's rates over the frames in one condition bin."""

    label: str
    low: float
    high: float
    """Edges of the bin, in the condition's unit."""

    phases: dict[Phase, PhaseStats]
    success_difference: Difference | None
    misclassification_difference: Difference | None


@dataclass(frozen=True, kw_only=True)
class VariantSummary:
    """Everything ``score`` reports about one variant."""

    name: str
    phases: dict[Phase, PhaseStats]
    success_difference: Difference | None
    misclassification_difference: Difference | None
    bins: dict[Condition, list[BinStats]]
    unbinned: dict[Condition, dict[Phase, int]]
    """Frames per phase outside every bin of a condition, most often for lack of a pose."""


def phase_stats(
    frames: Sequence[FrameOutcome], variant: str, *, target: int | None, reference: int | None
) -> PhaseStats:
    """Return a variant's rates over ``frames``; frames it has no output for are left out."""
    labels = [frame.outputs[variant].top1 for frame in frames if variant in frame.outputs]
    success = None
    if target is not None:
        success = Rate(count=sum(label == target for label in labels), total=len(labels))
    misclassification = None
    if reference is not None:
        misclassification = Rate(
            count=sum(label != reference for label in labels), total=len(labels)
        )
    return PhaseStats(frames=len(labels), success=success, misclassification=misclassification)


def difference(patch: Rate | None, clean: Rate | None) -> Difference | None:
    """Return ``patch - clean`` with its interval; None when either is missing or empty."""
    if patch is None or clean is None or not patch.total or not clean.total:
        return None
    low, high = difference_interval(patch, clean)
    return Difference(value=patch.value - clean.value, low=low, high=high)


def summarise(
    frames: Sequence[FrameOutcome],
    variants: Sequence[str],
    *,
    target: int | None,
    reference: int | None,
    edges: BinEdges,
) -> dict[str, VariantSummary]:
    """Return the summary of every variant over the replayed frames."""
    by_phase = {phase: [frame for frame in frames if frame.phase is phase] for phase in Phase}
    summaries = {}
    for variant in variants:
        phases = {
            phase: phase_stats(selected, variant, target=target, reference=reference)
            for phase, selected in by_phase.items()
        }
        clean = phases[Phase.CLEAN]
        bins: dict[Condition, list[BinStats]] = {}
        unbinned: dict[Condition, dict[Phase, int]] = {}
        for condition, condition_edges in edges.edges.items():
            members: list[list[FrameOutcome]] = [[] for _ in condition_edges[1:]]
            outside = dict.fromkeys(Phase, 0)
            for frame in frames:
                index = edges.bin_of(condition, condition.value_of(frame.conditions))
                if index is None:
                    outside[frame.phase] += 1
                else:
                    members[index].append(frame)
            bins[condition] = [
                _bin_stats(
                    label,
                    condition_edges[i],
                    condition_edges[i + 1],
                    members[i],
                    variant,
                    clean,
                    target=target,
                    reference=reference,
                )
                for i, label in enumerate(edges.labels(condition))
            ]
            unbinned[condition] = outside

        patch = phases[Phase.PATCH]
        summaries[variant] = VariantSummary(
            name=variant,
            phases=phases,
            success_difference=difference(patch.success, clean.success),
            misclassification_difference=difference(
                patch.misclassification, clean.misclassification
            ),
            bins=bins,
            unbinned=unbinned,
        )
    return summaries


def _bin_stats(
    label: str,
    low: float,
    high: float,
    members: list[FrameOutcome],
    variant: str,
    clean: PhaseStats,
    *,
    target: int | None,
    reference: int | None,
) -> BinStats:
    phases = {
        phase: phase_stats(
            [frame for frame in members if frame.phase is phase],
            variant,
            target=target,
            reference=reference,
        )
        for phase in Phase
    }
    patch = phases[Phase.PATCH]
    return BinStats(
        label=label,
        low=low,
        high=high,
        phases=phases,
        success_difference=difference(patch.success, clean.success),
        misclassification_difference=difference(patch.misclassification, clean.misclassification),
    )
