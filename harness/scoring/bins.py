"""Condition bins: which range of yaw, pitch, distance, luminance or patch area a frame is in.

Bins are half-open, ``[edge[i], edge[i + 1])``, except the last, which includes its upper
edge. A value below the first edge or above the last falls in no bin, and so does a missing
value (a frame where no marker was found has no pose).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from harness.capture.session import Conditions
from harness.errors import InvalidArgumentError


class Condition(Enum):
    """A binned condition, named by its ``Conditions`` field."""

    YAW = "yaw_deg"
    PITCH = "pitch_deg"
    DISTANCE = "distance_m"
    LUMINANCE = "luminance"
    PATCH_AREA = "patch_area_px"

    @property
    def unit(self) -> str:
        """Unit of the values: ``deg``, ``m``, ``px`` or empty for luminance in [0, 1]."""
        return {"yaw_deg": "deg", "pitch_deg": "deg", "distance_m": "m", "patch_area_px": "px"}.get(
            self.value, ""
        )

    def value_of(self, conditions: Conditions | None) -> float | None:
        """Return this condition's value in ``conditions``; None when it was not measured."""
        if conditions is None:
            return None
        value: float | None = getattr(conditions, self.value)
        if value is None or math.isnan(value):
            return None
        return value


DEFAULT_EDGES: dict[Condition, tuple[float, ...]] = {
    Condition.YAW: (-90.0, -45.0, -30.0, -15.0, -5.0, 5.0, 15.0, 30.0, 45.0, 90.0),
    Condition.PITCH: (-90.0, -45.0, -30.0, -15.0, -5.0, 5.0, 15.0, 30.0, 45.0, 90.0),
    Condition.DISTANCE: (0.0, 0.25, 0.5, 1.0, 2.0, 5.0, math.inf),
    Condition.LUMINANCE: (0.0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0),
    Condition.PATCH_AREA: (0.0, 2_500.0, 10_000.0, 40_000.0, 160_000.0, math.inf),
}
"""Bin edges used without the ``--*-bins`` options: degrees, m, [0, 1] and px."""


@dataclass(frozen=True)
class BinEdges:
    """Bin edges per condition, each strictly increasing with at least two edges."""

    edges: dict[Condition, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_EDGES))

    def __post_init__(self) -> None:
        for condition, edges in self.edges.items():
            check_edges(condition, edges)

    def bin_of(self, condition: Condition, value: float | None) -> int | None:
        """Return the index of the bin holding ``value``, or None outside every bin."""
        if value is None:
            return None
        edges = self.edges[condition]
        if value == edges[-1]:
            return len(edges) - 2
        index = bisect_right(edges, value) - 1
        if index < 0 or index >= len(edges) - 1:
            return None
        return index

    def labels(self, condition: Condition) -> list[str]:
        """Return the bins' labels, e.g. ``[-5, 5)`` and ``[30, 90]`` for the last."""
        edges = self.edges[condition]
        labels = []
        for index in range(len(edges) - 1):
            closing = "]" if index == len(edges) - 2 else ")"
            labels.append(f"[{_number(edges[index])}, {_number(edges[index + 1])}{closing}")
        return labels


def parse_edges(option: str, text: str, *, example: str = "-30,0,30") -> tuple[float, ...]:
    """Parse a comma-separated list of bin edges such as ``-30,-10,10,30`` or ``0,1,inf``.

    ``example`` is the valid value that the error message shows for ``option``.

    Raises:
        InvalidArgumentError: an item is not a number, or the edges are not increasing.
    """
    try:
        edges = tuple(float(item) for item in text.split(","))
    except ValueError:
        raise InvalidArgumentError(
            f"{option} {text!r} is invalid: expected comma-separated numbers, e.g. {example}"
        ) from None
    if len(edges) < 2 or any(math.isnan(edge) for edge in edges):
        raise InvalidArgumentError(f"{option} {text!r} is invalid: expected at least two edges")
    if any(high <= low for low, high in itertools.pairwise(edges)):
        raise InvalidArgumentError(
            f"{option} {text!r} is invalid: expected strictly increasing edges"
        )
    return edges


def check_edges(condition: Condition, edges: Sequence[float]) -> None:
    """Raise :class:`InvalidArgumentError` unless ``edges`` are at least two increasing numbers."""
    if len(edges) < 2 or any(not high > low for low, high in itertools.pairwise(edges)):
        raise InvalidArgumentError(
            f"bin edges {list(edges)} of {condition.value} are invalid: expected at least two "
            "strictly increasing numbers"
        )


def _number(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"
