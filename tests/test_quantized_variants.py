"""Every variant must really be quantized: grid weights, rounded inputs, no layer skipped."""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

from harness.models.cache import VariantCache
from harness.models.quantize.layers import QuantizedLayer, quantized_layers
from harness.models.quantize.qat import DistillationSettings
from harness.models.spec import parse_variant
from harness.models.variants import BuildSettings, build_variant
from harness.models.zoo import load_model

TINY = BuildSettings(
    calibration_images=8,
    layerwise_images=4,
    distillation=DistillationSettings(steps=2, batch_size=2),
)


def _count_layers(model: nn.Module) -> int:
    return sum(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules())


def _check_on_grid(model: nn.Module, images: torch.Tensor) -> None:
    layers = quantized_layers(model)
    inputs: dict[int, torch.Tensor] = {}

    def recorder(key: int) -> Callable[[nn.Module, tuple[torch.Tensor, ...]], None]:
        def record(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            inputs[key] = args[0].detach()

        return record

    handles = [layer.layer.register_forward_pre_hook(recorder(id(layer))) for layer in layers]
    with torch.no_grad():
        model(images)
    for handle in handles:
        handle.remove()

    for layer in layers:
        weight = layer.layer.weight.detach()
        levels = weight / layer.weight_scale.view((-1,) + (1,) * (weight.dim() - 1))
        qmax = 2 ** (layer.weight_bits - 1) - 1
        assert torch.allclose(levels, levels.round(), atol=1e-3), "weights off the grid"
        assert levels.abs().max() <= qmax + 1e-3
        distinct = max(channel.unique().numel() for channel in weight)
        assert distinct <= 2**layer.weight_bits

        seen = inputs[id(layer)]
        act_levels = seen / layer.act_scale + layer.act_zero_point
        assert torch.allclose(act_levels, act_levels.round(), atol=1e-2), "inputs not rounded"
        assert act_levels.min() >= -1e-2
        assert act_levels.max() <= 2**layer.act_bits - 1 + 1e-2


@pytest.mark.parametrize(
    "text",
    [
        "efficientnet-lite0@8:ptq",
        "efficientnet-lite0@5:bc",
        "efficientnet-lite0@4:gptq",
        "efficientnet-lite0@2:qat",
        "efficientnet-lite0@w3a6:ptq-mse+fl8",
    ],
)
def test_lite0_variant_on_grid(text: str, default_scene_tensors: torch.Tensor) -> None:
    spec = parse_variant(text)
    variant = build_variant(
        spec,
        default_scene_tensors[::2],
        calibration_id="test",
        cache=VariantCache(None),
        settings=TINY,
    )
    assert variant.module is not None
    layers = quantized_layers(variant.module)

    # The float Lite0 has 50 conv and linear layers, all but the head padding-wrapped convs.
    assert len(layers) == _count_layers(load_model("efficientnet-lite0")) == 50
    assert type(layers[0].layer).__name__ == "Conv2dStaticSamePadding"
    if spec.first_last_bits:
        assert (layers[0].weight_bits, layers[-1].weight_bits) == (8, 8)
        assert {layer.weight_bits for layer in layers[1:-1]} == {3}
    else:
        assert {layer.weight_bits for layer in layers} == {spec.weight_bits}
    _check_on_grid(variant.module, default_scene_tensors[1:3])


@pytest.mark.parametrize(
    "factory", ["torchvision.models:resnet18", "torchvision.models:mobilenet_v3_large"]
)
def test_factory_model_fully_quantized(factory: str, default_scene_tensors: torch.Tensor) -> None:
    # Random-weight torchvision architectures: downsample and squeeze-excite convs must count.
    variant = build_variant(
        parse_variant(f"{factory}@4:ptq"),
        default_scene_tensors[:8],
        calibration_id="test",
        cache=VariantCache(None),
        settings=TINY,
    )
    assert variant.module is not None
    expected = _count_layers(load_model(factory))
    assert len(quantized_layers(variant.module)) == expected
    _check_on_grid(variant.module, default_scene_tensors[8:10])


def test_gradient_passes_quantizers(default_scene_tensors: torch.Tensor) -> None:
    variant = build_variant(
        parse_variant("efficientnet-lite0@4:ptq"),
        default_scene_tensors[:8],
        calibration_id="test",
        cache=VariantCache(None),
        settings=TINY,
    )
    images = default_scene_tensors[10:12].clone().requires_grad_(True)
    variant(images)[:, 859].sum().backward()
    assert images.grad is not None
    assert torch.isfinite(images.grad).all()
    assert images.grad.abs().sum() > 0


def test_cache_round_trip(default_scene_tensors: torch.Tensor, tmp_path: Path) -> None:
    cache = VariantCache(tmp_path)
    spec = parse_variant("efficientnet-lite0@5:bc")
    calibration = default_scene_tensors[:8]
    built = build_variant(spec, calibration, calibration_id="abc", cache=cache, settings=TINY)
    loaded = build_variant(spec, calibration, calibration_id="abc", cache=cache, settings=TINY)
    other = build_variant(spec, calibration, calibration_id="xyz", cache=cache, settings=TINY)
    assert not built.cached
    assert loaded.cached
    assert not other.cached

    images = default_scene_tensors[20:24]
    torch.testing.assert_close(built.predict(images), loaded.predict(images))
    assert isinstance(quantized_layers(loaded.module)[0], QuantizedLayer)  # type: ignore[arg-type]


def test_quantized_size_counts_bits(default_scene_tensors: torch.Tensor) -> None:
    fp32 = build_variant(
        parse_variant("efficientnet-lite0@32"),
        default_scene_tensors[:4],
        calibration_id="t",
        cache=VariantCache(None),
    )
    four = build_variant(
        parse_variant("efficientnet-lite0@4:ptq"),
        default_scene_tensors[:4],
        calibration_id="t",
        cache=VariantCache(None),
        settings=TINY,
    )
    # Lite0 has 4.65 M parameters, nearly all in conv and linear weights.
    assert fp32.size_bytes / 1e6 == pytest.approx(18.6, abs=0.2)
    assert four.size_bytes < fp32.size_bytes / 6


@pytest.mark.parametrize("text", ["efficientnet-lite0@32", "efficientnet-lite0@4:ptq"])
def test_onnx_twin_keeps_roundings(
    text: str, default_scene_tensors: torch.Tensor, tmp_path: Path
) -> None:
    from harness.models.variants import onnx_twin

    cache = VariantCache(tmp_path)
    variant = build_variant(
        parse_variant(text),
        default_scene_tensors[::2],
        calibration_id="t",
        cache=cache,
        settings=TINY,
    )
    twin = onnx_twin(variant, cache)
    assert twin.onnx is not None
    assert not twin.differentiable

    images = default_scene_tensors[1::2][:16]
    reference = variant.predict(images)
    exported = twin.predict(images)
    # Float reordering in ONNX Runtime can move a value across a rounding boundary now and
    # then, so logits agree closely rather than exactly.
    assert (exported - reference).abs().mean() < 0.05
    assert (exported.argmax(1) == reference.argmax(1)).float().mean() >= 15 / 16
