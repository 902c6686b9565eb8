from pathlib import Path

import pytest

from harness.errors import InvalidArgumentError
from harness.patch.ranges import EotRanges, Span, load_ranges, parse_span


def test_parse_span() -> None:
    assert parse_span("-30,30", "--yaw") == Span(-30.0, 30.0)
    assert parse_span("0.5", "--area") == Span(0.5, 0.5)
    with pytest.raises(InvalidArgumentError, match="--yaw 'left'"):
        parse_span("left", "--yaw")


def test_min_above_max_rejected() -> None:
    with pytest.raises(
        InvalidArgumentError, match="--yaw 30,-30 is invalid: min is larger than max"
    ):
        EotRanges(yaw_deg=Span(30.0, -30.0)).validate()


def test_impossible_values_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="--jpeg"):
        EotRanges(jpeg_quality=Span(50.0, 120.0)).validate()
    with pytest.raises(InvalidArgumentError, match="--area"):
        EotRanges(area=Span(0.0, 0.5)).validate()


def test_toml_ranges(tmp_path: Path) -> None:
    path = tmp_path / "eot.toml"
    path.write_text("[eot]\nyaw_deg = [-10, 10]\nfov_deg = 45\n")
    ranges = load_ranges(path)
    assert ranges.yaw_deg == Span(-10.0, 10.0)
    assert ranges.fov_deg == 45.0
    assert ranges.pitch_deg == EotRanges().pitch_deg
    path.write_text("[eot]\nwobble = [0, 1]\n")
    with pytest.raises(InvalidArgumentError, match="unknown EOT key 'wobble'"):
        load_ranges(path)
