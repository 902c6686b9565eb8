"""User models: a TorchScript file, an ONNX file and a factory path, with sidecar settings."""

import json
from pathlib import Path

import pytest
import torch

from harness.models.cache import VariantCache
from harness.models.metrics import top1_agreement
from harness.models.spec import parse_variant
from harness.models.variants import BuildSettings, build_variant
from harness.models.zoo import Classifier, ModelKind, resolve_model

LITE_SETTINGS = {"input_size": 224, "resize": 256, "mean": [127 / 255] * 3, "std": [128 / 255] * 3}


@pytest.fixture(scope="module")
def exported(lite0: Classifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lite0's raw network (normalised input) as TorchScript and ONNX files with a sidecar."""
    folder = tmp_path_factory.mktemp("user-models")
    example = torch.rand(1, 3, 224, 224)
    torch.jit.save(torch.jit.trace(lite0.net, example), str(folder / "lite.pt"))
    torch.onnx.export(
        lite0.net,
        (example,),
        str(folder / "lite.onnx"),
        input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
        dynamo=False,
    )
    for name in ("lite.json",):
        (folder / name).write_text(json.dumps(LITE_SETTINGS))
    return folder


def test_sidecar_sets_preprocessing(exported: Path) -> None:
    source = resolve_model(str(exported / "lite.onnx"))
    assert source.kind is ModelKind.ONNX
    assert source.preprocessing.mean == pytest.approx((127 / 255,) * 3)
    assert source.preprocessing.resize == 256


def test_torchscript_and_onnx_match_builtin(
    exported: Path, lite0: Classifier, default_scene_tensors: torch.Tensor
) -> None:
    images = default_scene_tensors[:6]
    with torch.no_grad():
        expected = lite0(images)
    for name in ("lite.pt", "lite.onnx"):
        variant = build_variant(
            parse_variant(f"{exported / name}@32"),
            images,
            calibration_id="t",
            cache=VariantCache(None),
        )
        torch.testing.assert_close(variant.predict(images), expected, atol=2e-3, rtol=1e-3)


def test_onnx_int8_variant(
    exported: Path, lite0: Classifier, default_scene_tensors: torch.Tensor, tmp_path: Path
) -> None:
    calibration, evaluation = default_scene_tensors[::2], default_scene_tensors[1::2]
    variant = build_variant(
        parse_variant(f"{exported / 'lite.onnx'}@int8"),
        calibration,
        calibration_id="t",
        cache=VariantCache(tmp_path),
        settings=BuildSettings(calibration_images=32),
    )
    with torch.no_grad():
        reference = lite0(evaluation)
    assert top1_agreement(variant.predict(evaluation), reference) >= 0.8


def test_torchscript_rejects_fake_quant(
    exported: Path, default_scene_tensors: torch.Tensor
) -> None:
    from harness.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="TorchScript"):
        build_variant(
            parse_variant(f"{exported / 'lite.pt'}@8"),
            default_scene_tensors[:4],
            calibration_id="t",
            cache=VariantCache(None),
        )
