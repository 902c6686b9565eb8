"""Building variants: the float model, fake-quant variants and the deployed int8 model.

:func:`build_variant` turns a :class:`VariantSpec` into a :class:`Variant` that maps
(B, 3, S, S) images in [0, 1] to (B, K) logits. Calibrated and trained variants are cached
on disk, keyed by model, widths, method, settings and a hash of the calibration images, so
a second run loads them in seconds.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from harness.errors import InvalidArgumentError
from harness.models.cache import VariantCache
from harness.models.classes import ClassList
from harness.models.preprocess import Preprocessing
from harness.models.quantize.bias_correction import correct_biases
from harness.models.quantize.gptq import apply_gptq
from harness.models.quantize.layers import (
    LayerMode,
    QuantizedLayer,
    install_quantized_layers,
    quantized_layers,
)
from harness.models.quantize.ptq import calibrate, run_batches
from harness.models.quantize.qat import DistillationSettings, distill
from harness.models.runtime import OnnxClassifier, export_onnx, quantize_int8
from harness.models.spec import QuantMethod, VariantSpec
from harness.models.zoo import Classifier, ModelKind, ModelSource, load_model, resolve_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class BuildSettings:
    """Image budgets of the quantization methods."""

    calibration_images: int = 256
    """Images for activation ranges and int8 calibration (at most)."""

    layerwise_images: int = 64
    """Images for the layer-by-layer methods, GPTQ and bias correction (at most). Each layer
    runs a forward pass over them, so the cost grows with depth times this count."""

    distillation: DistillationSettings = field(default_factory=DistillationSettings)


@dataclass
class Variant:
    """A ready-to-run variant."""

    spec: VariantSpec
    source: ModelSource
    module: nn.Module | None
    """The torch model (float or fake-quant); None for ONNX Runtime variants."""

    onnx: OnnxClassifier | None = None
    size_bytes: int = 0
    """Storage of the weights at their bit widths (ONNX file size for ONNX models)."""

    build_seconds: float = 0.0
    """Time spent calibrating or training (0 when loaded from the cache)."""

    cached: bool = False

    @property
    def classes(self) -> ClassList:
        """Names of the logits."""
        return self.source.classes

    @property
    def preprocessing(self) -> Preprocessing:
        """Input size and normalisation of the model."""
        return self.source.preprocessing

    @property
    def differentiable(self) -> bool:
        """Whether gradients flow to the input (torch variants only)."""
        return self.module is not None

    @property
    def device(self) -> torch.device:
        """Device the variant computes on (ONNX Runtime variants report the CPU)."""
        if self.module is None:
            return torch.device("cpu")
        parameter = next(self.module.parameters(), None)
        return parameter.device if parameter is not None else torch.device("cpu")

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Map (B, 3, S, S) images in [0, 1] to (B, K) logits on the images' device.

        Torch variants keep gradients; inputs move to the variant's device and back.
        """
        if self.module is not None:
            logits: torch.Tensor = self.module(images.to(self.device))
            return logits.to(images.device)
        assert self.onnx is not None
        return self.onnx(images).to(images.device)

    def predict(self, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        """Return (N, K) logits without gradients, in batches, on the images' device."""
        if self.module is not None:
            logits = run_batches(self.module, images.to(self.device), batch_size)
            return logits.to(images.device)
        assert self.onnx is not None
        batches = [self.onnx(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
        return torch.cat(batches).to(images.device)


ProgressCallback = Callable[[str], None]


def onnx_twin(variant: Variant, cache: VariantCache, *, threads: int | None = None) -> Variant:
    """Return the variant running in ONNX Runtime, with the same roundings, for fast scoring.

    Torch variants are exported once and kept beside the cached variant; ONNX Runtime
    variants are returned as they are. The twin is not differentiable.

    Raises:
        InvalidArgumentError: caching is off (the export is a file).
    """
    if variant.module is None:
        return variant
    fingerprint = _module_fingerprint(variant.module)
    path = cache.path(
        variant.spec.model,
        f"{variant.spec.bits_label}-{variant.spec.method_label}",
        fingerprint,
        ".onnx",
    )
    if path is None:
        raise InvalidArgumentError("the ONNX Runtime twin of a variant needs a cache folder")
    if not path.is_file():
        partial = path.with_name(path.stem + "-partial.onnx")
        export_onnx(variant.module.cpu(), variant.preprocessing.input_size, partial)
        partial.replace(path)
    session = OnnxClassifier(path, threads=threads)
    return Variant(
        variant.spec, variant.source, None, session, variant.size_bytes, cached=variant.cached
    )


def _module_fingerprint(module: nn.Module) -> str:
    """Hash a module's state (weights, grids and biases), so a twin is re-exported on change."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def build_variant(
    spec: VariantSpec,
    calibration: torch.Tensor,
    *,
    calibration_id: str,
    cache: VariantCache,
    settings: BuildSettings | None = None,
    reference: Classifier | None = None,
    on_status: ProgressCallback | None = None,
) -> Variant:
    """Build (or load from the cache) the variant described by ``spec``.

    Args:
        spec: the variant.
        calibration: (N, 3, S, S) calibration images in [0, 1] at the model's input size;
            they must not include the images the variant is evaluated on.
        calibration_id: a hash of the calibration images, part of the cache key.
        cache: where calibrated variants are kept.
        settings: image budgets and the distillation schedule.
        reference: the already-loaded float model, to avoid loading it again.
        on_status: receives one-line status messages for long steps.

    Raises:
        InvalidArgumentError: the variant is not available for this kind of model.
        ModelLoadError: the model cannot be loaded.
    """
    settings = settings or BuildSettings()
    source = check_supported(spec)
    status = on_status or (lambda message: logger.info("%s: %s", spec.name, message))

    if source.kind is ModelKind.ONNX:
        return _build_onnx_variant(spec, source, calibration, calibration_id, cache, settings)

    float_model = reference if reference is not None else load_model(source)
    if spec.is_float:
        return Variant(spec, source, float_model, size_bytes=_float_size(float_model))
    if spec.is_deployed:
        return _build_deployed(
            spec, source, float_model, calibration, calibration_id, cache, settings
        )
    return _build_fake_quant(
        spec, source, float_model, calibration, calibration_id, cache, settings, status
    )


def check_supported(spec: VariantSpec) -> ModelSource:
    """Resolve the spec's model and check that this kind of model has this variant.

    Raises:
        InvalidArgumentError: fake-quant of an ONNX or TorchScript file, or int8 of TorchScript.
        ModelLoadError: the model file is missing.
    """
    source = resolve_model(spec.model)
    if source.kind is ModelKind.ONNX and not (spec.is_float or spec.is_deployed):
        raise InvalidArgumentError(
            f"variant {spec.name!r} needs a PyTorch model: an ONNX model has only the "
            "@32 and @int8 variants"
        )
    if source.kind is ModelKind.TORCHSCRIPT and not spec.is_float:
        raise InvalidArgumentError(
            f"variant {spec.name!r} needs the model's Python modules, which a TorchScript file "
            "does not have: load it as package.module:factory, or as an ONNX file for @int8"
        )
    return source


def _cache_fields(
    spec: VariantSpec, source: ModelSource, calibration_id: str, settings: BuildSettings
) -> dict[str, object]:
    fields: dict[str, object] = {
        "variant": spec.name,
        "model": source.fingerprint(),
        "images": calibration_id,
        "calibration_images": settings.calibration_images,
    }
    if spec.method in (QuantMethod.GPTQ, QuantMethod.QAT, QuantMethod.BIAS_CORRECTION):
        fields["layerwise_images"] = settings.layerwise_images
    if spec.method is QuantMethod.QAT:
        fields["distillation"] = repr(settings.distillation)
    return fields


def _build_fake_quant(
    spec: VariantSpec,
    source: ModelSource,
    float_model: Classifier,
    calibration: torch.Tensor,
    calibration_id: str,
    cache: VariantCache,
    settings: BuildSettings,
    status: ProgressCallback,
) -> Variant:
    key = cache.key(_cache_fields(spec, source, calibration_id, settings))
    path = cache.path(spec.model, spec.bits_label + "-" + spec.method_label, key, ".pt")

    model = copy.deepcopy(float_model)
    size = source.preprocessing.input_size
    layers = install_quantized_layers(
        model,
        torch.rand(1, 3, size, size),
        weight_bits=spec.weight_bits,
        act_bits=spec.act_bits,
        first_last_bits=spec.first_last_bits,
        scale_search=min(spec.weight_bits, spec.act_bits) < 8,
    )

    if path is not None and path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        _load_quantized_state(model, layers, state)
        logger.info("loaded %s from %s", spec.name, path)
        return Variant(spec, source, model, size_bytes=quantized_size(model), cached=True)

    started = time.perf_counter()
    images = calibration[: settings.calibration_images]
    status(f"calibrating activations on {len(images)} images")
    calibrate(model, layers, images, spec.observer)

    if spec.method in (QuantMethod.GPTQ, QuantMethod.QAT):
        layerwise = calibration[: settings.layerwise_images]
        status(f"GPTQ on {len(layerwise)} images, {len(layers)} layers")
        apply_gptq(model, layers, layerwise)
        calibrate(model, layers, images, spec.observer)
    if spec.method is QuantMethod.BIAS_CORRECTION:
        layerwise = calibration[: settings.layerwise_images]
        status(f"bias correction on {len(layerwise)} images, {len(layers)} layers")
        correct_biases(model, float_model, layers, layerwise)
    if spec.method is QuantMethod.QAT:
        steps = settings.distillation.steps
        status(f"distillation, {steps} steps on {len(calibration)} images")
        distill(
            model,
            float_model,
            layers,
            calibration,
            settings.distillation,
            on_step=lambda step, loss: (
                status(f"distillation step {step + 1}/{steps}, loss {loss:.3f}")
                if (step + 1) % 25 == 0
                else None
            ),
        )

    for layer in layers:
        layer.release_float_weights()
        layer.mode = LayerMode.QUANTIZED
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    seconds = time.perf_counter() - started

    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        torch.save(model.state_dict(), partial)
        partial.replace(path)
        logger.info("built %s in %.0f s, cached at %s", spec.name, seconds, path)
    return Variant(spec, source, model, size_bytes=quantized_size(model), build_seconds=seconds)


def _load_quantized_state(
    model: nn.Module, layers: list[QuantizedLayer], state: dict[str, torch.Tensor]
) -> None:
    # Bias correction may have added biases to layers that had none.
    for name, module in model.named_modules():
        if isinstance(module, QuantizedLayer) and module.layer.bias is None:
            bias = state.get(f"{name}.layer.bias")
            if bias is not None:
                module.layer.bias = nn.Parameter(torch.zeros_like(bias), requires_grad=False)
    model.load_state_dict(state)
    for layer in layers:
        layer.release_float_weights()
        layer.mode = LayerMode.QUANTIZED
    for parameter in model.parameters():
        parameter.requires_grad_(False)


def _float_size(model: nn.Module) -> int:
    return sum(p.numel() * 4 for p in model.parameters())


def quantized_size(model: nn.Module) -> int:
    """Return the bytes of the parameters at their widths (all but quantized weights at 32 bits)."""
    quantized = {id(layer.layer.weight): layer.weight_bits for layer in quantized_layers(model)}
    bits = sum(p.numel() * quantized.get(id(p), 32) for p in model.parameters())
    return int(bits // 8)


def _build_deployed(
    spec: VariantSpec,
    source: ModelSource,
    float_model: Classifier,
    calibration: torch.Tensor,
    calibration_id: str,
    cache: VariantCache,
    settings: BuildSettings,
) -> Variant:
    key = cache.key(_cache_fields(spec, source, calibration_id, settings))
    path = cache.path(spec.model, "int8", key, ".onnx")
    if path is None:
        raise InvalidArgumentError(
            "the int8 variant is an ONNX file and needs a cache folder: drop --no-cache"
        )
    if path.is_file():
        return Variant(spec, source, None, OnnxClassifier(path), path.stat().st_size, cached=True)

    started = time.perf_counter()
    float_path = path.with_name(path.stem + "-fp32.onnx")
    export_onnx(float_model, float_model.preprocessing.input_size, float_path)
    _quantize_to(float_path, path, calibration[: settings.calibration_images])
    float_path.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    return Variant(
        spec, source, None, OnnxClassifier(path), path.stat().st_size, build_seconds=seconds
    )


def _quantize_to(float_path: Path, path: Path, images: torch.Tensor) -> None:
    partial = path.with_name(path.stem + "-partial.onnx")
    quantize_int8(float_path, partial, images)
    partial.replace(path)


def _build_onnx_variant(
    spec: VariantSpec,
    source: ModelSource,
    calibration: torch.Tensor,
    calibration_id: str,
    cache: VariantCache,
    settings: BuildSettings,
) -> Variant:
    """Run a user's ONNX file as is (fp32) or quantized by ONNX Runtime (int8)."""
    assert source.path is not None
    normalisation = source.preprocessing
    if spec.is_float:
        session = OnnxClassifier(source.path, normalisation=normalisation)
        return Variant(spec, source, None, session, source.path.stat().st_size)

    key = cache.key(_cache_fields(spec, source, calibration_id, settings))
    path = cache.path(spec.model, "int8", key, ".onnx")
    if path is None:
        raise InvalidArgumentError("the int8 variant needs a cache folder: drop --no-cache")
    if not path.is_file():
        OnnxClassifier(source.path)  # Fails with a clear message on a corrupt file.
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        images = normalisation.normalise(calibration[: settings.calibration_images])
        _quantize_to(source.path, path, images)
        seconds = time.perf_counter() - started
        session = OnnxClassifier(path, normalisation=normalisation)
        return Variant(spec, source, None, session, path.stat().st_size, build_seconds=seconds)

    session = OnnxClassifier(path, normalisation=normalisation)
    return Variant(spec, source, None, session, path.stat().st_size, cached=True)
