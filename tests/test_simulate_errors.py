"""simulate and the sim: source: one-line errors for bad input."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.capture.sources import parse_source
from harness.errors import DataError, SourceError
from tests.cli_helpers import assert_one_line_error, run_cli

CALIBRATION = str(Path(__file__).parent.parent / "calibration")


def _png(tmp_path: Path) -> str:
    path = tmp_path / "patch.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path)
    return str(path)


def _simulate(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "simulate",
        "--calibration",
        CALIBRATION,
        "--captures",
        str(tmp_path / "captures"),
        "--printables",
        str(tmp_path / "printables"),
        *extra,
    ]


CASES = [
    (["--image", "PNG"], "has no target"),
    (["--image", "PNG", "--target", "toaster", "--distance", "0.9,0.3"], "--distance 0.9,0.3"),
    (["--image", "PNG", "--target", "toaster", "--distance", "0.1,0.5"], "impossible"),
    (["--image", "PNG", "--target", "toaster", "--yaw=-95,10"], "--yaw -95,10"),
    (["--image", "PNG", "--target", "toaster", "--jpeg-quality", "0,50"], "--jpeg-quality"),
    (["--image", "PNG", "--target", "no-such-class"], "no-such-class"),
    (["--patch", "missing"], "patch 'missing' not found"),
    ([], "give the patch either"),
    (["--image", "PNG", "--target", "toaster", "--resolution", "wide"], "--resolution 'wide'"),
    (["--image", "PNG", "--target", "toaster", "--patch-frames", "0"], "--patch-frames 0"),
    (["--image", "PNG", "--target", "toaster", "--crop", "0.5"], "--crop 0.5"),
]


@pytest.mark.parametrize(("extra", "needle"), CASES)
def test_simulate_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    png = _png(tmp_path)
    args = _simulate(tmp_path, *[png if item == "PNG" else item for item in extra])
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, needle)


def test_simulate_empty_scene_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "scenes"
    empty.mkdir()
    args = _simulate(
        tmp_path, "--image", _png(tmp_path), "--target", "toaster", "--images", str(empty)
    )
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "contains no images")


def test_simulate_bad_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "views.jsonl"
    script.write_text('{"yaw_deg": 10}\n{"tilt": 4}\n')
    args = _simulate(
        tmp_path, "--image", _png(tmp_path), "--target", "toaster", "--script", str(script)
    )
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "line 2", "'tilt'")


def test_sim_source_errors(tmp_path: Path) -> None:
    png = _png(tmp_path)
    with pytest.raises(DataError, match="not found"):
        parse_source(f"sim:{tmp_path / 'nothing'}")
    with pytest.raises(SourceError, match="KEY=VALUE"):
        parse_source(f"sim:{png},zoom=2")
    with pytest.raises(SourceError, match="expected a number"):
        parse_source(f"sim:{png},clean=many")
    with pytest.raises(SourceError, match="frames >= 1"):
        parse_source(f"sim:{png},frames=0")
