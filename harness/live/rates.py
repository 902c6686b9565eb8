"""Rolling targeted success and misclassification of the live view, per variant and phase.

The rates cover the last ``window`` scored frames of the current phase and restart when the
phase changes. Misclassification compares a variant's top-1 class with the clean
reference: the true class when the user gave one, else the majority top-1 class of the
reference variant (fp32 when it runs) over every clean frame scored so far. These are
live indications; ``score`` computes the rates with intervals from the recording.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass

from harness.capture.session import Phase, Prediction


@dataclass(frozen=True, kw_only=True)
class VariantRates:
    """One variant's rates over the window."""

    success: float | None
    """Fraction of frames whose top-1 is the target; None when untargeted or no frames."""

    misclassification: float | None
    """Fraction of frames whose top-1 differs from the clean reference; None before the
    reference is known."""

    frames: int
    """Frames in the window."""


@dataclass(frozen=True, kw_only=True)
class RatesSnapshot:
    """The rates of every variant at one moment."""

    phase: Phase | None
    """Phase the window covers; None before the first scored frame."""

    reference: int | None
    """Clean reference class, None until known."""

    variants: dict[str, VariantRates]


class RollingRates:
    """Rolling rates; :meth:`add` and :meth:`snapshot` may run in different threads.

    Args:
        names: variant names in display order.
        window: scored frames per window.
        target: the target class, None for an untargeted run.
        true_class: the true class of the clean scene, when known.
        reference_variant: the variant whose clean majority is the reference otherwise.
    """

    def __init__(
        self,
        names: list[str],
        *,
        window: int,
        target: int | None,
        true_class: int | None,
        reference_variant: str,
    ) -> None:
        self._names = names
        self._target = target
        self._true_class = true_class
        self._reference_variant = reference_variant
        self._window: dict[str, deque[int]] = {name: deque(maxlen=window) for name in names}
        self._phase: Phase | None = None
        self._clean_votes: Counter[int] = Counter()
        self._lock = threading.Lock()

    def add(self, phase: Phase, predictions: dict[str, Prediction]) -> None:
        """Add one scored frame."""
        with self._lock:
            if phase is not self._phase:
                for window in self._window.values():
                    window.clear()
                self._phase = phase
            for name, prediction in predictions.items():
                self._window[name].append(prediction.top1)
            reference = predictions.get(self._reference_variant)
            if phase is Phase.CLEAN and reference is not None:
                self._clean_votes[reference.top1] += 1

    def reference(self) -> int | None:
        """Return the clean reference class, None until known."""
        with self._lock:
            return self._reference_locked()

    def snapshot(self) -> RatesSnapshot:
        """Return every variant's rates over its window."""
        with self._lock:
            reference = self._reference_locked()
            rates = {}
            for name in self._names:
                labels = list(self._window[name])
                count = len(labels)
                success = None
                misclassification = None
                if count and self._target is not None:
                    success = sum(label == self._target for label in labels) / count
                if count and reference is not None:
                    misclassification = sum(label != reference for label in labels) / count
                rates[name] = VariantRates(
                    success=success, misclassification=misclassification, frames=count
                )
            return RatesSnapshot(phase=self._phase, reference=reference, variants=rates)

    def _reference_locked(self) -> int | None:
        if self._true_class is not None:
            return self._true_class
        if not self._clean_votes:
            return None
        return self._clean_votes.most_common(1)[0][0]
