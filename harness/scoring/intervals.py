"""Binomial rates with Wilson 95 % score intervals, and the interval of a difference of rates.

Wilson's score interval: E. B. Wilson, "Probable inference, the law of succession, and
statistical inference", JASA 22 (1927). The difference interval is Newcombe's hybrid score
interval (method 10 in R. G. Newcombe, "Interval estimation for the difference between
independent proportions", Statistics in Medicine 17, 1998), built from the two Wilson
intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""Two-sided 95 % quantile of the standard normal distribution."""


@dataclass(frozen=True, kw_only=True)
class Rate:
    """``count`` successes out of ``total`` trials, with a Wilson 95 % interval."""

    count: int
    total: int

    @property
    def value(self) -> float:
        """``count / total``; NaN for no trials."""
        return self.count / self.total if self.total else math.nan

    @property
    def low(self) -> float:
        """Lower bound of the Wilson 95 % interval; NaN for no trials."""
        return wilson_interval(self.count, self.total)[0]

    @property
    def high(self) -> float:
        """Upper bound of the Wilson 95 % interval; NaN for no trials."""
        return wilson_interval(self.count, self.total)[1]


def wilson_interval(count: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Return the Wilson score interval (low, high) of ``count`` successes in ``total`` trials.

    The interval stays inside [0, 1] and is not degenerate at 0 or ``total`` successes,
    unlike the normal (Wald) interval. Returns (NaN, NaN) for no trials.

    Raises:
        ValueError: ``count`` is negative or larger than ``total``.
    """
    if not 0 <= count <= total:
        raise ValueError(f"count {count} is invalid: expected 0..{total}")
    if total == 0:
        return math.nan, math.nan

    proportion = count / total
    z_squared = z * z
    denominator = 1.0 + z_squared / total
    centre = (proportion + z_squared / (2 * total)) / denominator
    half_width = (
        z
        * math.sqrt(proportion * (1 - proportion) / total + z_squared / (4 * total * total))
        / denominator
    )
    # Clamp the rounding error at the ends: at 0 or total successes one bound is exact.
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def difference_interval(after: Rate, before: Rate) -> tuple[float, float]:
    """Return Newcombe's 95 % interval (low, high) of ``after.value - before.value``.

    Both rates must come from independent samples. Returns (NaN, NaN) when either has no
    trials.
    """
    if not after.total or not before.total:
        return math.nan, math.nan
    difference = after.value - before.value
    low = difference - math.hypot(after.value - after.low, before.high - before.value)
    high = difference + math.hypot(after.high - after.value, before.value - before.low)
    return low, high
