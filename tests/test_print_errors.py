"""Bad input to ``print``: one line on stderr starting with ``error: ``, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.cli import main
from harness.errors import InvalidArgumentError
from tests.cli_helpers import assert_one_line_error, run_cli


@pytest.fixture()
def patch_png(tmp_path: Path) -> Path:
    path = tmp_path / "patch.png"
    Image.fromarray(np.full((32, 32, 3), 90, dtype=np.uint8)).save(path)
    return path


def test_size_too_large_names_largest(
    patch_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["print", "--image", str(patch_png), "--printables", str(tmp_path / "out")]
    code, _, err = run_cli([*args, "--size", "50,400"], capsys)
    assert_one_line_error(code, err, "--size 400 mm", "A4", "largest that fits is 168 mm")
    code, _, err = run_cli([*args, "--size", "160", "--paper", "letter"], capsys)
    assert_one_line_error(code, err, "Letter", "largest that fits is 150 mm")
    assert not (tmp_path / "out").exists()


def test_size_not_a_number(patch_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["print", "--image", str(patch_png), "--size", "50,abc"], capsys)
    assert_one_line_error(code, err, "'50,abc'", "e.g. 50,100")
    code, _, err = run_cli(["print", "--image", str(patch_png), "--size", "-5"], capsys)
    assert_one_line_error(code, err, "--size -5 is invalid")


def test_unknown_paper(patch_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["print", "--image", str(patch_png), "--paper", "a3"], capsys)
    assert_one_line_error(code, err, "'a3'", "a4, letter")


def test_missing_patch_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["print", "0123abcd", "--printables", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "patch '0123abcd' not found", "holds no patches")


def test_missing_patch_suggests_close_id(
    patch_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printables = tmp_path / "printables"
    assert main(["print", "--image", str(patch_png), "--printables", str(printables)]) == 0
    (patch_id,) = [folder.name for folder in printables.iterdir()]
    capsys.readouterr()
    code, _, err = run_cli(["print", patch_id[:-1] + "x", "--printables", str(printables)], capsys)
    assert_one_line_error(code, err, f"did you mean {patch_id!r}")


def test_invalid_patch_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "p1"
    folder.mkdir()
    Image.new("RGB", (16, 16)).save(folder / "patch.png")
    (folder / "patch.json").write_text(
        json.dumps({"id": "p1", "created": "2026-01-01", "target": 5})
    )
    code, _, err = run_cli(["print", "p1", "--printables", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "invalid 'target' 5")


def test_non_square_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "wide.png"
    Image.new("RGB", (40, 30)).save(image)
    code, _, err = run_cli(["print", "--image", str(image), "--printables", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "40x30 px", "square")


def test_color_profile_wrong_schema(
    patch_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "future.json"
    profile.write_text(json.dumps({"kind": "patch-harness/color-profile", "version": 99}))
    args = ["print", "--image", str(patch_png), "--color-profile", str(profile)]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "version 99", "expected kind 'patch-harness/color-profile'")

    profile.write_text(json.dumps({"kind": "patch-harness/camera-profile", "version": 1}))
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "kind 'patch-harness/camera-profile'")


def test_unknown_sheet_and_target(patch_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["print", "--sheet", "chessboard"], capsys)
    assert_one_line_error(code, err, "'chessboard'", "charuco or colour-chart")
    code, _, err = run_cli(["print", "--image", str(patch_png), "--target", "toastr"], capsys)
    assert_one_line_error(code, err, "'toastr'", "did you mean 'toaster'")
    code, _, err = run_cli(["print", "abc", "--target", "toaster"], capsys)
    assert_one_line_error(code, err, "--target applies to --image only")
    code, _, err = run_cli(["print", "--sheet", "colour-chart", "--square-mm", "20"], capsys)
    assert_one_line_error(code, err, "--square-mm applies to --sheet charuco only")


def test_nothing_or_both_to_print(patch_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["print"], capsys)
    assert_one_line_error(code, err, "PATCH_ID", "--image FILE", "--sheet")
    code, _, err = run_cli(["print", "abc", "--image", str(patch_png)], capsys)
    assert_one_line_error(code, err, "not both")
    code, _, err = run_cli(["print", "--image", str(patch_png) + ".missing"], capsys)
    assert_one_line_error(code, err, "not found")


def test_debug_shows_traceback(patch_png: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="largest that fits"):
        main(["print", "--image", str(patch_png), "--size", "500", "--debug"])
