"""Viewing conditions of the virtual camera: sampled from ranges or read from a script.

Units: angles in degrees (composed as Rz(roll) · Ry(yaw) · Rx(pitch), as in
:mod:`harness.capture.pose`), distance in m from the camera centre to the patch centre,
offsets as fractions of the half frame (0 = the patch centre on the optical axis, ±1 = on
the frame's edge), light and noise in [0, 1] pixel units, defocus in px of the frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataError, InvalidArgumentError
from harness.patch.ranges import Span


@dataclass(frozen=True, kw_only=True)
class ViewConditions:
    """Pose, placement, light and camera effects of one frame."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    distance_m: float = 0.5
    """Distance from the camera centre to the patch centre, in m."""

    offset_x: float = 0.0
    """Horizontal position of the patch centre, fraction of the half frame width."""

    offset_y: float = 0.0
    """Vertical position of the patch centre, fraction of the half frame height."""

    brightness: float = 0.0
    """Light added to the sheet, [0, 1] pixel units."""

    contrast: float = 1.0
    """Contrast factor of the sheet about mid grey."""

    gamma: float = 1.0
    """Gamma applied to the sheet."""

    defocus_px: float = 0.0
    """Standard deviation of a Gaussian defocus of the frame, px."""

    noise: float = 0.0
    """Standard deviation of Gaussian sensor noise, [0, 1] pixel units."""

    jpeg_quality: int = 100
    """JPEG quality of the frame, 1..100; 100 skips compression."""


@dataclass(frozen=True, kw_only=True)
class ViewRanges:
    """Closed ranges that :func:`sample_views` draws each condition from, uniformly."""

    yaw_deg: Span = Span(-40.0, 40.0)
    pitch_deg: Span = Span(-40.0, 40.0)
    roll_deg: Span = Span(-30.0, 30.0)
    distance_m: Span = Span(0.35, 0.9)
    offset_x: Span = Span(-0.3, 0.3)
    offset_y: Span = Span(-0.3, 0.3)
    brightness: Span = Span(-0.1, 0.1)
    contrast: Span = Span(0.85, 1.15)
    gamma: Span = Span(0.85, 1.2)
    defocus_px: Span = Span(0.0, 1.0)
    noise: Span = Span(0.0, 0.015)
    jpeg_quality: Span = Span(70.0, 95.0)

    def validate(self) -> None:
        """Raise :class:`InvalidArgumentError` for an empty or impossible range."""
        for item in fields(self):
            span = getattr(self, item.name)
            if span.low > span.high:
                raise InvalidArgumentError(
                    f"{_flag(item.name)} {span.low:g},{span.high:g} is invalid: min is larger "
                    "than max; give MIN,MAX with MIN <= MAX"
                )
        _check_within("yaw_deg", self.yaw_deg, -80.0, 80.0)
        _check_within("pitch_deg", self.pitch_deg, -80.0, 80.0)
        _check_within("roll_deg", self.roll_deg, -180.0, 180.0)
        _check_within("distance_m", self.distance_m, 0.05, 20.0)
        _check_within("offset_x", self.offset_x, -1.0, 1.0)
        _check_within("offset_y", self.offset_y, -1.0, 1.0)
        _check_within("brightness", self.brightness, -1.0, 1.0)
        _check_within("contrast", self.contrast, 0.01, 10.0)
        _check_within("gamma", self.gamma, 0.01, 10.0)
        _check_within("defocus_px", self.defocus_px, 0.0, 20.0)
        _check_within("noise", self.noise, 0.0, 1.0)
        _check_within("jpeg_quality", self.jpeg_quality, 1.0, 100.0)

    def to_json(self) -> dict[str, list[float]]:
        """Return the ranges as ``{name: [min, max]}``."""
        return {item.name: getattr(self, item.name).as_list() for item in fields(self)}


def _flag(name: str) -> str:
    return "--" + name.removesuffix("_deg").removesuffix("_px").removesuffix("_m").replace("_", "-")


def _check_within(name: str, span: Span, low: float, high: float) -> None:
    if span.low < low or span.high > high:
        raise InvalidArgumentError(
            f"{_flag(name)} {span.low:g},{span.high:g} is invalid: expected values within "
            f"{low:g}..{high:g}"
        )


def with_range(ranges: ViewRanges, name: str, span: Span) -> ViewRanges:
    """Return ``ranges`` with the range called ``name`` replaced by ``span``."""
    changes: dict[str, Any] = {name: span}
    return replace(ranges, **changes)


def sample_views(ranges: ViewRanges, count: int, rng: np.random.Generator) -> list[ViewConditions]:
    """Draw ``count`` conditions uniformly from ``ranges``."""
    views = []
    for _ in range(count):
        values: dict[str, Any] = {}
        for item in fields(ranges):
            span: Span = getattr(ranges, item.name)
            values[item.name] = float(rng.uniform(span.low, span.high))
        values["jpeg_quality"] = round(values["jpeg_quality"])
        views.append(ViewConditions(**values))
    return views


def read_script(path: Path) -> list[ViewConditions]:
    """Read scripted conditions: one JSON object per line, keys of :class:`ViewConditions`.

    Missing keys keep their defaults (a frontal patch at 0.5 m, no light change, no blur, no
    noise, no JPEG). Empty lines and lines starting with ``#`` are skipped.

    Raises:
        DataError: the file is missing or empty, a line is not a JSON object, or a key is
            unknown or not a number.
    """
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the condition script {str(path)!r}: {error}") from None

    known = {item.name for item in fields(ViewConditions)}
    views = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"condition script {str(path)!r} line {number}"
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where} is not JSON: {error.msg}") from None
        if not isinstance(document, dict):
            raise DataError(f'{where} is invalid: expected a JSON object such as {{"yaw_deg": 20}}')
        values: dict[str, Any] = {}
        for key, value in document.items():
            if key not in known:
                raise DataError(f"{where} has the unknown key {key!r}: expected {sorted(known)}")
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not math.isfinite(value)
            ):
                raise DataError(f"{where}: {key} is {value!r}, expected a number")
            values[key] = round(value) if key == "jpeg_quality" else float(value)
        views.append(ViewConditions(**values))
    if not views:
        raise DataError(f"condition script {str(path)!r} has no conditions: expected JSON lines")
    return views


def check_view(view: ViewConditions, where: str) -> None:
    """Raise :class:`InvalidArgumentError` when one scripted view lies outside what is accepted."""
    spans: dict[str, Any] = {}
    for item in fields(ViewRanges):
        value = float(getattr(view, item.name))
        spans[item.name] = Span(value, value)
    try:
        ViewRanges(**spans).validate()
    except InvalidArgumentError as error:
        raise InvalidArgumentError(f"{where}: {error}") from None
