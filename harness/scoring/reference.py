"""The clean reference label that misclassification is measured against."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from harness.capture.session import Phase
from harness.scoring.outcomes import FrameOutcome


class ReferenceSource(Enum):
    """Source of the reference label."""

    TRUE_CLASS = "true-class"
    """Given by the user (``--true-class`` or the session's recorded true class)."""

    FP32_MAJORITY = "fp32-majority"
    """The most frequent top-1 class of the float variant over the clean phase."""

    NONE = "none"
    """No true class and no clean frame: misclassification cannot be measured."""


@dataclass(frozen=True, kw_only=True)
class Reference:
    """The reference label and how it was chosen."""

    label: int | None
    source: ReferenceSource
    variant: str | None = None
    """Variant whose clean majority gave the label, for ``FP32_MAJORITY``."""

    votes: int = 0
    """Clean frames whose top-1 was ``label``, for ``FP32_MAJORITY``."""

    clean_frames: int = 0
    """Clean frames that voted, for ``FP32_MAJORITY``."""


def choose_reference(
    frames: Sequence[FrameOutcome], *, true_class: int | None, reference_variant: str
) -> Reference:
    """Return the true class when given, else the majority top-1 of ``reference_variant``
    over the clean frames.

    A tie between classes goes to the smallest class index, so the choice does not depend
    on frame order.
    """
    if true_class is not None:
        return Reference(label=true_class, source=ReferenceSource.TRUE_CLASS)

    votes: Counter[int] = Counter(
        frame.outputs[reference_variant].top1
        for frame in frames
        if frame.phase is Phase.CLEAN and reference_variant in frame.outputs
    )
    if not votes:
        return Reference(label=None, source=ReferenceSource.NONE, variant=reference_variant)
    max_votes = max(votes.values())
    label = min(label for label, count in votes.items() if count == max_votes)
    return Reference(
        label=label,
        source=ReferenceSource.FP32_MAJORITY,
        variant=reference_variant,
        votes=max_votes,
        clean_frames=sum(votes.values()),
    )
