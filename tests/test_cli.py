"""The models command end to end, and one-line errors with exit code 2 for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from harness.cli import main
from tests.cli_helpers import assert_one_line_error, run_cli


@pytest.fixture()
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(4):
        Image.new("RGB", (64, 48), (40 * index, 90, 160)).save(folder / f"scene{index}.png")
    return folder


def test_unknown_model_lists_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["models", "--variants", "efficientnet-lite9@8"], capsys)
    assert_one_line_error(code, err, "'efficientnet-lite9'", "efficientnet-lite0", "resnet18")


def test_bits_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["models", "--variants", "efficientnet-lite0@1"], capsys)
    assert_one_line_error(code, err, "bit width 1", "2..16")
    code, _, err = run_cli(["models", "--variants", "efficientnet-lite0@w8a24"], capsys)
    assert_one_line_error(code, err, "bit width 24")


def test_unreadable_weights(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "broken.pt"
    weights.write_bytes(b"these bytes are not a TorchScript archive")
    code, _, err = run_cli(
        ["models", "--variants", f"{weights}@32", "--images", str(image_folder)], capsys
    )
    assert_one_line_error(code, err, "cannot read TorchScript file", "broken.pt")


def test_corrupt_onnx(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x08\x07garbage that is not a protobuf graph")
    code, _, err = run_cli(
        ["models", "--variants", f"{model}@32", "--images", str(image_folder)], capsys
    )
    assert_one_line_error(code, err, "cannot load ONNX model", "model.onnx")


def test_folder_without_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "readme.txt").write_text("nothing to see")
    code, _, err = run_cli(["models", "--images", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "contains no images", str(tmp_path))


def test_missing_model_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["models", "--variants", "nowhere/model.onnx@32"], capsys)
    assert_one_line_error(code, err, "'nowhere/model.onnx' not found")


def test_fake_quant_of_onnx_rejected(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "tiny.onnx"
    torch.onnx.export(torch.nn.Conv2d(3, 2, 3), (torch.rand(1, 3, 8, 8),), str(model), dynamo=False)
    code, _, err = run_cli(
        ["models", "--variants", f"{model}@4", "--images", str(image_folder)], capsys
    )
    assert_one_line_error(code, err, "needs a PyTorch model", "@int8")


def test_bad_choice_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "session", "--lang", "fr"])
    err = capsys.readouterr().err

    assert exited.value.code == 2
    assert_one_line_error(2, err, "--lang", "'fr'", "report --help")
    assert "usage:" not in err


def test_missing_command_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])

    assert exited.value.code == 2
    assert_one_line_error(2, capsys.readouterr().err, "COMMAND")


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):
        main(["models", "--variants", "efficientnet-lite0@1", "--debug"])


def test_models_json_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        [
            "models",
            "--variants",
            "efficientnet-lite0@32,8,int8",
            "--limit",
            "12",
            "--calibration-images",
            "16",
            "--cache-dir",
            str(tmp_path),
            "--json",
            "--threads",
            "2",
        ],
        capsys,
    )
    assert code == 0
    result = json.loads(out)
    rows = {row["variant"]: row for row in result["variants"]}
    assert list(rows) == [
        "efficientnet-lite0@32",
        "efficientnet-lite0@8:ptq",
        "efficientnet-lite0@int8",
    ]
    assert result["evaluation_images"] == 12
    assert rows["efficientnet-lite0@32"]["agreement"] == 1.0
    # The default scenes give low-confidence predictions, so 8 bits flips a few of 12;
    # the ImageNet tests hold the tight bounds.
    assert rows["efficientnet-lite0@8:ptq"]["agreement"] >= 0.5
    assert rows["efficientnet-lite0@int8"]["size_mb"] < 7
    for row in rows.values():
        assert row["latency_ms"] > 0
        assert row["degenerate"] is False
        assert row["top1"] is None


def test_console_script_prints_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "models",
            "--variants",
            "efficientnet-lite0@32,2:ptq",
            "--limit",
            "6",
            "--calibration-images",
            "8",
            "--no-latency",
            "--cache-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "efficientnet-lite0@32" in result.stdout
    # Plain 2-bit rounding destroys the model; the table must say so, not hide it.
    two_bit = next(line for line in result.stdout.splitlines() if "@2:ptq" in line)
    assert "degenerate" in two_bit
