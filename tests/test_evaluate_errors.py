"""evaluate: one-line errors for bad input, before any model is built."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.cli_helpers import assert_one_line_error, run_cli


def _png(tmp_path: Path) -> str:
    path = tmp_path / "patch.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path)
    return str(path)


def _untargeted_folder(tmp_path: Path) -> None:
    folder = tmp_path / "printables" / "plain"
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / "patch.png")
    document = {"id": "plain", "target": None, "created": "2026-01-01T00:00:00+00:00"}
    (folder / "patch.json").write_text(json.dumps(document))


CASES = [
    (["--image", "PNG"], "has no target"),
    (["--image", "PNG", "--target", "toaster", "--target", "tripod"], "--target 'tripod'"),
    (["--image", "PNG", "--target", "toaster", "--area", "0.5,0.2"], "--area 0.5,0.2"),
    (["--image", "PNG", "--target", "toaster", "--area", "0.95,0.99"], "within 0.0001..0.9"),
    (["--image", "PNG", "--target", "toaster", "--repeats", "0"], "--repeats 0"),
    (["--image", "PNG", "--target", "tostre"], "tostre"),
    (["--patch", "plain"], "untargeted"),
    (["--patch", "missing"], "patch 'missing' not found"),
    ([], "no patch given"),
    (["--image", "PNG", "--target", "toaster", "--variants", "nonet@8"], "nonet"),
]


@pytest.mark.parametrize(("extra", "needle"), CASES)
def test_evaluate_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    png = _png(tmp_path)
    _untargeted_folder(tmp_path)
    args = [
        "evaluate",
        "--printables",
        str(tmp_path / "printables"),
        "--cache-dir",
        str(tmp_path / "cache"),
        *[png if item == "PNG" else item for item in extra],
    ]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, needle)


def test_evaluate_empty_scene_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "scenes"
    empty.mkdir()
    args = ["evaluate", "--image", _png(tmp_path), "--target", "toaster", "--images", str(empty)]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "contains no images")


def test_evaluate_patch_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A path to the folder resolves without --printables: the untargeted patch is found.
    _untargeted_folder(tmp_path)
    folder = tmp_path / "printables" / "plain"
    code, _, err = run_cli(["evaluate", "--patch", str(folder)], capsys)
    assert_one_line_error(code, err, "patch 'plain' is untargeted")
