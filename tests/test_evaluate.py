"""evaluate: ASR over repeats, the transfer matrix, feature maps and the output files.

A photo the model recognises with high confidence works as a patch without optimisation:
pasted large into other scenes, it should turn many of them into its class. The coffee
photo of scikit-image is ``espresso`` (967) to EfficientNet-Lite0 at 96 % and the camera
photo ``tripod`` (872) at 94 %, so these two make a cheap targeted pair.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from harness.commands.evaluate import EvaluateRequest, PatchSource, run_evaluate
from harness.evaluate.protocol import ProtocolSettings, placement_ranges, placements
from harness.models.spec import parse_variants
from harness.models.variants import BuildSettings
from harness.patch.ranges import Span

ESPRESSO = 967
TRIPOD = 872


def _photo_patch(folder: Path, name: str) -> Path:
    pixels = getattr(skimage.data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    side = min(pixels.shape[:2])
    top = (pixels.shape[0] - side) // 2
    left = (pixels.shape[1] - side) // 2
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    Image.fromarray(pixels[top : top + side, left : left + side, :3]).resize((96, 96)).save(path)
    return path


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory, variant_cache: Path) -> Path:
    folder = tmp_path_factory.mktemp("evaluate")
    request = EvaluateRequest(
        patches=(
            PatchSource(image=_photo_patch(folder, "coffee"), target="espresso"),
            PatchSource(image=_photo_patch(folder, "camera"), target=str(TRIPOD)),
        ),
        variants=tuple(parse_variants("efficientnet-lite0@32,8:ptq")),
        settings=ProtocolSettings(repeats=3, ranges=placement_ranges(area=Span(0.3, 0.45))),
        limit=12,
        output=folder / "out",
        cache_dir=variant_cache,
        build=BuildSettings(calibration_images=16),
        feature_images=4,
    )
    return run_evaluate(request).folder


def test_photo_patch_hits_its_class(evaluation: Path) -> None:
    document = json.loads((evaluation / "evaluation.json").read_text())
    coffee, camera = document["patches"]

    assert coffee["target"] == {"index": ESPRESSO, "name": "espresso"}
    assert camera["target"]["index"] == TRIPOD
    for patch in (coffee, camera):
        white_box = patch["success"]["efficientnet-lite0@32"]
        assert len(white_box["rates"]) == 3
        assert white_box["mean"] == pytest.approx(np.mean(white_box["rates"]))
        assert white_box["std"] == pytest.approx(np.std(white_box["rates"], ddof=1))
        # No clean scene is the target; with the photo pasted, some are.
        assert white_box["clean_target_rate"] == 0.0
        assert white_box["mean"] >= 0.05
    # The colour coffee photo is the stronger patch (about 40 % in a run on 2 cores).
    assert coffee["success"]["efficientnet-lite0@32"]["mean"] >= 0.25
    assert coffee["success"]["efficientnet-lite0@8:ptq"]["mean"] >= 0.25


def test_transfer_matrix_files_agree(evaluation: Path) -> None:
    document = json.loads((evaluation / "evaluation.json").read_text())
    transfer = document["transfer"]
    assert transfer["rows"] == ["coffee.png", "camera.png"]
    assert transfer["columns"] == ["efficientnet-lite0@32", "efficientnet-lite0@8:ptq"]

    with (evaluation / "transfer.csv").open() as file:
        table = list(csv.reader(file))
    assert table[0] == ["source \\ target", *transfer["columns"]]
    for row, values in zip(table[1:], transfer["mean"], strict=True):
        assert [float(cell) for cell in row[1:]] == pytest.approx(values, abs=1e-4)

    with (evaluation / "asr-runs.csv").open() as file:
        runs = list(csv.DictReader(file))
    assert len(runs) == 2 * 2 * 3


def test_feature_maps_and_figures(evaluation: Path) -> None:
    document = json.loads((evaluation / "evaluation.json").read_text())
    features = document["features"]
    assert features["layers"] == [
        "net._blocks.0",
        "net._blocks.5",
        "net._blocks.10",
        "net._blocks.15",
    ]
    assert set(features["mean_activation"]) == {
        "efficientnet-lite0@32",
        "efficientnet-lite0@8:ptq",
    }
    layer = features["mean_activation"]["efficientnet-lite0@32"]["net._blocks.0"]
    # The patch covers part of every input, so the early activations change.
    assert layer["clean"] != pytest.approx(layer["patched"], rel=1e-3)

    for name in ("asr.png", "transfer.png", "features-0-net-blocks-0.png"):
        assert (evaluation / name).stat().st_size > 5000


def test_placements_same_per_seed() -> None:
    settings = ProtocolSettings(repeats=2, seed=7)
    first, again, other = (placements(settings, 5, repeat) for repeat in (0, 0, 1))
    assert first.x.tolist() == again.x.tolist()
    assert first.area.tolist() == again.area.tolist()
    assert first.x.tolist() != other.x.tolist()
    assert first.yaw_deg.abs().max() == 0
