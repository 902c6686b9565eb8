"""Ranges of the physical conditions a patch must survive, in physical units.

Every range is a closed interval [low, high] sampled uniformly. Angles are in degrees,
blur and motion in px of the model input, brightness and noise in [0, 1] pixel units,
patch area as a fraction of the image area (before perspective), position as a fraction of
the free space around the patch (0 = left or top edge, 1 = right or bottom edge).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from harness.errors import InvalidArgumentError


@dataclass(frozen=True)
class Span:
    """A closed interval [low, high]."""

    low: float
    high: float

    def as_list(self) -> list[float]:
        """Return ``[low, high]`` for JSON."""
        return [self.low, self.high]


@dataclass(frozen=True, kw_only=True)
class EotRanges:
    """Sampling ranges of expectation over transformation."""

    yaw_deg: Span = Span(-30.0, 30.0)
    """Rotation about the vertical axis of the patch plane, degrees."""

    pitch_deg: Span = Span(-30.0, 30.0)
    """Rotation about the horizontal axis of the patch plane, degrees."""

    roll_deg: Span = Span(-20.0, 20.0)
    """In-plane rotation, degrees."""

    area: Span = Span(0.06, 0.16)
    """Patch area as a fraction of the image area, before perspective."""

    position: Span = Span(0.0, 1.0)
    """Patch centre as a fraction of the free space, for x and y alike."""

    brightness: Span = Span(-0.1, 0.1)
    """Light added to the printed patch, [0, 1] pixel units."""

    contrast: Span = Span(0.8, 1.2)
    """Contrast factor of the printed patch about mid grey."""

    gamma: Span = Span(0.8, 1.25)
    """Gamma applied to the printed patch."""

    defocus_px: Span = Span(0.0, 1.5)
    """Standard deviation of a Gaussian defocus blur of the frame, px."""

    motion_px: Span = Span(0.0, 5.0)
    """Length of a linear motion blur of the frame, px (one length per batch)."""

    noise: Span = Span(0.0, 0.02)
    """Standard deviation of Gaussian sensor noise, [0, 1] pixel units."""

    jpeg_quality: Span = Span(60.0, 95.0)
    """JPEG quality of the frame, 1..100."""

    fov_deg: float = 60.0
    """Horizontal field of view of the virtual camera that turns pose into perspective."""

    @classmethod
    def geometry_only(cls, **changes: Any) -> EotRanges:
        """Return default ranges with light and camera effects off, then ``changes`` applied.

        Pose, area and position still vary; brightness, contrast, gamma, blur, noise and JPEG
        are fixed at their neutral values. Benchmarks against tools without those effects and
        tests with known answers use it.
        """
        neutral = cls(
            brightness=Span(0.0, 0.0),
            contrast=Span(1.0, 1.0),
            gamma=Span(1.0, 1.0),
            defocus_px=Span(0.0, 0.0),
            motion_px=Span(0.0, 0.0),
            noise=Span(0.0, 0.0),
            jpeg_quality=Span(100.0, 100.0),
        )
        return replace(neutral, **changes)

    def to_json(self) -> dict[str, Any]:
        """Return the ranges as a JSON-serialisable dict."""
        return {
            f.name: getattr(self, f.name).as_list()
            if isinstance(getattr(self, f.name), Span)
            else getattr(self, f.name)
            for f in fields(self)
        }

    def validate(self) -> None:
        """Raise :class:`InvalidArgumentError` for an empty or impossible range."""
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Span) and value.low > value.high:
                raise InvalidArgumentError(
                    f"EOT range {_flag(item.name)} {value.low:g},{value.high:g} is invalid: "
                    "min is larger than max; give MIN,MAX with MIN <= MAX"
                )

        _check_within("area", self.area, 1e-4, 0.9)
        _check_within("position", self.position, 0.0, 1.0)
        _check_within("contrast", self.contrast, 1e-3, 10.0)
        _check_within("gamma", self.gamma, 1e-2, 10.0)
        _check_within("defocus_px", self.defocus_px, 0.0, 20.0)
        _check_within("motion_px", self.motion_px, 0.0, 31.0)
        _check_within("noise", self.noise, 0.0, 1.0)
        _check_within("jpeg_quality", self.jpeg_quality, 1.0, 100.0)
        for name in ("yaw_deg", "pitch_deg"):
            _check_within(name, getattr(self, name), -80.0, 80.0)
        if not 5.0 <= self.fov_deg <= 150.0:
            raise InvalidArgumentError(
                f"EOT field of view {self.fov_deg:g} degrees is invalid: expected 5..150"
            )


def _flag(name: str) -> str:
    return "--" + name.removesuffix("_deg").removesuffix("_px").replace("_", "-")


def _check_within(name: str, span: Span, low: float, high: float) -> None:
    if span.low < low or span.high > high:
        raise InvalidArgumentError(
            f"EOT range {_flag(name)} {span.low:g},{span.high:g} is invalid: "
            f"expected values within {low:g}..{high:g}"
        )


def parse_span(text: str, option: str) -> Span:
    """Parse ``MIN,MAX`` (or one number for a fixed value) into a span.

    Raises:
        InvalidArgumentError: not one or two numbers.
    """
    parts = [part.strip() for part in text.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError as error:
        raise InvalidArgumentError(
            f"{option} {text!r} is invalid: expected MIN,MAX numbers such as -30,30"
        ) from error
    if len(values) == 1:
        return Span(values[0], values[0])
    if len(values) != 2:
        raise InvalidArgumentError(f"{option} {text!r} is invalid: expected exactly MIN,MAX")
    return Span(values[0], values[1])


def load_ranges(path: Path, base: EotRanges | None = None) -> EotRanges:
    """Read ranges from a TOML file with an ``[eot]`` table (or top-level keys).

    Keys are the field names of :class:`EotRanges` (``yaw_deg = [-30, 30]``, ``fov_deg = 60``).

    Raises:
        InvalidArgumentError: unreadable file, unknown key or malformed value.
    """
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidArgumentError(f"cannot read EOT ranges from {str(path)!r}: {error}") from error

    table = document.get("eot", document)
    known = {f.name for f in fields(EotRanges)}
    ranges = base or EotRanges()
    for key, value in table.items():
        if key not in known:
            listed = ", ".join(sorted(known))
            raise InvalidArgumentError(
                f"unknown EOT key {key!r} in {str(path)!r}: expected one of {listed}"
            )
        if key == "fov_deg":
            ranges = replace(ranges, fov_deg=float(value))
            continue
        if not (isinstance(value, list) and len(value) == 2):
            raise InvalidArgumentError(
                f"EOT key {key!r} in {str(path)!r} is {value!r}: expected [min, max]"
            )
        ranges = with_span(ranges, key, Span(float(value[0]), float(value[1])))
    return ranges


def with_span(ranges: EotRanges, name: str, span: Span) -> EotRanges:
    """Return ``ranges`` with the range called ``name`` replaced by ``span``."""
    changes: dict[str, Any] = {name: span}
    return replace(ranges, **changes)
