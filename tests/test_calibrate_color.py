"""Colour calibration on a chart photo made through a known printer+camera colour transform."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from PIL import Image

from harness.calibration.color import (
    DEFAULT_NAME,
    MIN_SWATCHES,
    ColorProfile,
    delta_e,
    generic_profile,
    load_color_profile,
)
from harness.cli import main
from harness.errors import InvalidArgumentError, ProfileError
from harness.printing import color_chart
from tests.printing_helpers import render_pdf

REPOSITORY = Path(__file__).resolve().parents[1]

MIXING = np.array([[0.86, 0.10, 0.04], [0.06, 0.84, 0.10], [0.03, 0.12, 0.85]])
"""Channel crosstalk of the known transform; rows sum to 1 so that greys stay grey."""


def known_transform(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """The printer+camera stand-in: a tone curve, channel mixing, black and white levels."""
    toned = np.power(np.clip(rgb, 0, 1), 1.15)
    mixed = toned @ MIXING.T
    return np.asarray(np.clip(0.07 + 0.83 * mixed, 0, 1), dtype=np.float64)


@pytest.fixture(scope="module")
def chart_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The printed chart through ``known_transform``, tilted in perspective, with sensor noise."""
    folder = tmp_path_factory.mktemp("chart")
    assert main(["print", "--sheet", "colour-chart", "--printables", str(folder)]) == 0
    (page,) = render_pdf(folder / "sheets" / "colour-chart-a4.pdf", 72)

    captured = known_transform(page.reshape(-1, 3) / 255.0).reshape(page.shape)
    height, width = page.shape[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    tilted = np.array([[120, 40], [760, 90], [800, 1000], [60, 940]], dtype=np.float32)
    photo_from_page = cv2.getPerspectiveTransform(corners, tilted)
    photo = cv2.warpPerspective(
        (captured * 255).astype(np.float32), photo_from_page, (880, 1040), borderValue=(40, 40, 40)
    )
    noise = np.random.default_rng(5).normal(0, 1.5, photo.shape)
    path = folder / "photo.png"
    Image.fromarray(np.clip(photo + noise, 0, 255).round().astype(np.uint8)).save(path)
    return path


def test_recovers_swatch_colors(
    chart_photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "calibrate",
        "color",
        str(chart_photo),
        "--name",
        "office",
        "--calibration",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert "fit error CIEDE2000" in capsys.readouterr().out

    profile = ColorProfile.load(tmp_path / "office.json")
    swatches = color_chart.swatch_colors()
    truth = known_transform(swatches)
    assert len(profile.measured) == len(swatches)
    assert not profile.generic

    measured_error = delta_e(profile.measured, truth)
    assert measured_error.max() < 3.0, measured_error.max()
    fitted_error = delta_e(profile.apply_numpy(swatches), truth)
    assert fitted_error.max() < 3.0, fitted_error.max()
    assert np.allclose(profile.palette_rgb, profile.measured)


def test_apply_matches_numpy_and_has_gradient() -> None:
    profile = generic_profile()
    images = torch.rand(2, 3, 5, 7, dtype=torch.float64, requires_grad=True)
    captured = profile.apply(images)
    assert captured.shape == (2, 3, 5, 7)

    pixels = images.detach().permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    expected = profile.apply_numpy(pixels)
    actual = captured.detach().permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    assert np.allclose(actual, expected)

    captured.sum().backward()
    assert images.grad is not None
    assert images.grad.abs().sum() > 0
    with pytest.raises(InvalidArgumentError, match=r"expected \(B, 3, H, W\)"):
        profile.apply(torch.rand(3, 4, 4))


def test_shipped_default_is_generic() -> None:
    shipped = ColorProfile.load(REPOSITORY / "calibration" / f"{DEFAULT_NAME}.json")
    built = generic_profile()
    assert shipped.generic
    assert "not measured" in shipped.description
    assert np.allclose(shipped.coefficients, built.coefficients, atol=1e-9)
    assert np.allclose(shipped.palette_rgb, built.palette_rgb, atol=1e-9)
    assert shipped.palette.shape == (len(color_chart.swatch_colors()), 3)


def test_default_falls_back_to_builtin(tmp_path: Path) -> None:
    profile = load_color_profile(DEFAULT_NAME, tmp_path)
    assert profile.generic
    with pytest.raises(ProfileError, match="not found"):
        load_color_profile("office", tmp_path)


def test_save_load_round_trip(tmp_path: Path) -> None:
    profile = generic_profile()
    profile.save(tmp_path / "copy.json")
    loaded = ColorProfile.load(tmp_path / "copy.json")
    assert loaded.name == profile.name
    assert np.allclose(loaded.coefficients, profile.coefficients)
    assert loaded.max_delta_e < 1e-6


def test_too_few_swatches(
    chart_photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = np.asarray(Image.open(chart_photo))
    # The top of the photo: both top markers and the first rows of swatches.
    top = tmp_path / "top.png"
    Image.fromarray(photo[:260]).save(top)
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((300, 300, 3), 200, dtype=np.uint8)).save(blank)

    code = main(["calibrate", "color", str(top), str(blank), "--calibration", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: found ")
    found = int(line.split()[2])
    assert 0 < found < MIN_SWATCHES
    assert "of 132 colour chart swatches in 2 images" in line
    assert "chart markers located in 1" in line
    assert f"need at least {MIN_SWATCHES}" in line
    assert "Traceback" not in err


def test_wrong_schema_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    document = json.loads((REPOSITORY / "calibration" / f"{DEFAULT_NAME}.json").read_text())
    document["coefficients"] = [[0.0, 1.0]]
    bad.write_text(json.dumps(document))
    with pytest.raises(ProfileError, match="invalid 'coefficients': expected a finite 10×3"):
        ColorProfile.load(bad)

    image = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(image)
    code = main(["print", "--image", str(image), "--color-profile", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: profile ")
    assert "Traceback" not in err


def test_missing_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "color", str(tmp_path / "none.jpg"), "--calibration", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: image ")
    assert "not found" in err
