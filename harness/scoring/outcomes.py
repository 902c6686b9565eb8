"""Replay results of one frame: its phase, conditions and each variant's prediction."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from harness.capture.session import Conditions, Phase


class ConditionsSource(Enum):
    """Origin of a frame's conditions."""

    RECORDED = "recorded"
    """``frames.jsonl``: the frame was scored live."""

    RECOMPUTED = "recomputed"
    """Measured again from the frame's pixels during replay."""


@dataclass(frozen=True, kw_only=True)
class VariantOutput:
    """One variant's prediction on one frame."""

    top1: int
    """Class index of the largest logit."""

    probability: float
    """Softmax probability of ``top1``, in [0, 1]."""

    target_probability: float | None = None
    """Softmax probability of the target class; None for an untargeted session."""


@dataclass(frozen=True, kw_only=True)
class FrameOutcome:
    """One replayed frame."""

    index: int
    """Frame number in the session (``FrameRecord.index``)."""

    time_s: float
    """Capture time since the run started, in s."""

    phase: Phase
    tags: tuple[str, ...] = ()
    conditions: Conditions | None
    conditions_source: ConditionsSource = ConditionsSource.RECORDED
    outputs: dict[str, VariantOutput] = field(default_factory=dict)
    """Prediction per variant name."""
