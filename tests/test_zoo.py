from pathlib import Path

import pytest
import torch

from harness.errors import InvalidArgumentError, ModelLoadError
from harness.models.zoo import BUILTIN_MODELS, ModelKind, load_model, resolve_model


def test_builtin_preprocessing() -> None:
    lite0 = resolve_model("efficientnet-lite0").preprocessing
    assert lite0.input_size == 224
    assert lite0.resize == 256
    # The TensorFlow Lite checkpoints expect (pixel - 127) / 128.
    assert lite0.mean[0] == pytest.approx(127 / 255)
    assert lite0.std[0] == pytest.approx(128 / 255)
    assert resolve_model("efficientnet-lite2").preprocessing.input_size == 260


@pytest.mark.parametrize(
    ("name", "size"), [("efficientnet-lite1", 240), ("efficientnet-lite2", 260)]
)
def test_lite_extra_loads(name: str, size: int) -> None:
    model = load_model(name)
    with torch.no_grad():
        logits = model(torch.rand(1, 3, size, size))
    assert logits.shape == (1, 1000)
    assert not any(p.requires_grad for p in model.parameters())


def test_torchvision_weights_missing_from_cache(tmp_path: Path) -> None:
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path))
    try:
        with pytest.raises(ModelLoadError, match="not in torchvision's cache") as raised:
            load_model("resnet18")
    finally:
        torch.hub.set_dir(previous)
    assert "resnet18-f37072fd.pth" in str(raised.value)
    assert "weights='IMAGENET1K_V1'" in str(raised.value)


def test_factory_errors() -> None:
    with pytest.raises(ModelLoadError, match="cannot import model factory"):
        load_model("no_such_package.models:build")
    with pytest.raises(ModelLoadError, match=r"returned int, expected a torch\.nn\.Module"):
        load_model("builtins:int")


def test_unknown_name_lists_builtins() -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        resolve_model("mobilenet")
    for name in BUILTIN_MODELS:
        assert name in str(raised.value)


def test_invalid_sidecar(tmp_path: Path) -> None:
    model = tmp_path / "net.onnx"
    model.write_bytes(b"")
    (tmp_path / "net.json").write_text('{"input_size": "large"}')
    with pytest.raises(ModelLoadError, match="invalid model settings"):
        resolve_model(str(model))


def test_file_kinds(tmp_path: Path) -> None:
    for name, kind in (("a.onnx", ModelKind.ONNX), ("b.pt", ModelKind.TORCHSCRIPT)):
        (tmp_path / name).write_bytes(b"")
        assert resolve_model(str(tmp_path / name)).kind is kind
