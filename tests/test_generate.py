"""generate end to end: held-out success, the transfer row, determinism, resume, bad input."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from harness.commands.generate import GenerateRequest, run_generate
from harness.models.spec import parse_variants
from harness.models.variants import BuildSettings
from harness.patch.apply import apply_patch, load_patch
from harness.patch.optimize import OptimiseSettings
from harness.patch.ranges import EotRanges, Span
from tests.cli_helpers import assert_one_line_error, run_cli

# Milder conditions than the defaults, so a test-sized budget converges.
TEST_RANGES = EotRanges(
    yaw_deg=Span(-20.0, 20.0),
    pitch_deg=Span(-20.0, 20.0),
    roll_deg=Span(-10.0, 10.0),
    area=Span(0.2, 0.25),
    jpeg_quality=Span(85.0, 95.0),
)


def _request(tmp_path: Path, steps: int, **changes: object) -> GenerateRequest:
    settings = OptimiseSettings(
        target=None, steps=steps, batch_size=8, learning_rate=0.03, seed=0, ranges=TEST_RANGES
    )
    request = GenerateRequest(
        target="toaster",
        variants=tuple(parse_variants("efficientnet-lite0@32")),
        weights=(1.0,),
        resolution=48,
        print_resolution=256,
        settings=settings,
        calibration_dir=Path(__file__).parent.parent / "calibration",
        printables=tmp_path / "printables",
        cache_dir=tmp_path / "cache",
        build=BuildSettings(calibration_images=32),
        evaluation_repeats=2,
        device="cpu",
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def test_patch_beats_control_on_held_out(tmp_path: Path) -> None:
    evaluate = tuple(parse_variants("efficientnet-lite0@32,8:ptq,5:ptq,4:ptq,2:ptq,int8"))
    result = run_generate(_request(tmp_path, 150, evaluate=evaluate))

    white_box = result.success["efficientnet-lite0@32"]
    assert white_box.frames == 84  # 42 held-out scenes, rendered twice
    assert white_box.control <= 0.05
    assert white_box.patch >= 0.4
    # 8 bits computes almost what fp32 computes, so the patch carries over.
    assert result.success["efficientnet-lite0@8:ptq"].patch >= 0.5 * white_box.patch

    document = json.loads((result.folder / "patch.json").read_text())
    assert document["id"] == result.patch_id
    assert document["target"] == {"index": 859, "name": "toaster"}
    row = document["held_out_success"]
    assert set(row) == {spec.name for spec in evaluate}
    assert row["efficientnet-lite0@32"]["white_box"] is True
    assert row["efficientnet-lite0@int8"]["white_box"] is False
    assert len(document["history"]) == 150
    for name in ("patch.png", "loss.png", "preview.png"):
        assert (result.folder / name).stat().st_size > 1000

    # The saved patch works through the standalone API too.
    patch = load_patch(result.folder)
    assert patch.image.shape == (3, 256, 256)
    frames, conditions = apply_patch(torch.rand(3, 3, 224, 224), patch, ranges=TEST_RANGES)
    assert frames.shape == (3, 3, 224, 224)
    assert len(conditions) == 3


def test_same_seed_same_id(tmp_path: Path) -> None:
    first = run_generate(_request(tmp_path / "a", 4))
    second = run_generate(_request(tmp_path / "b", 4))
    third = run_generate(
        _request(
            tmp_path / "c",
            4,
            settings=OptimiseSettings(target=None, steps=4, seed=1, ranges=TEST_RANGES),
        )
    )
    assert first.patch_id == second.patch_id
    assert first.patch_id != third.patch_id


def test_resume_continues_run(tmp_path: Path) -> None:
    straight = run_generate(_request(tmp_path / "straight", 6))

    interrupted = _request(tmp_path / "resumed", 4)
    run_generate(replace(interrupted, settings=replace(interrupted.settings, checkpoint_every=2)))
    resumed = _request(tmp_path / "resumed", 6, resume=True)
    result = run_generate(resumed)
    assert result.history[0].step == 0
    assert len(result.history) == 6
    assert result.patch_id == straight.patch_id


def _error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = run_cli(["generate", *args], capsys)
    return assert_one_line_error(code, err)


def test_generate_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "did you mean 'toaster'" in _error(["--target", "toastr"], capsys)
    assert "must fit the model input of 224 px" in _error(
        ["--target", "toaster", "--resolution", "300"], capsys
    )
    assert "--yaw 30,-30 is invalid" in _error(["--target", "toaster", "--yaw", "30,-30"], capsys)
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "something else"}')
    assert "broken.json" in _error(["--target", "toaster", "--color-profile", str(broken)], capsys)
    message = _error(["--target", "toaster", "--variants", "efficientnet-lite0@32,int8"], capsys)
    assert "not differentiable" in message
    assert "'efficientnet-lite0@8:ptq'" in message


def test_untargeted_run(tmp_path: Path) -> None:
    result = run_generate(_request(tmp_path, 3, target=None))
    document = json.loads((result.folder / "patch.json").read_text())
    assert document["target"] is None
    assert document["untargeted"] is True
    assert len(result.history) == 3
    assert result.success["efficientnet-lite0@32"].frames == 84
