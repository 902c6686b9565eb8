"""``patch-harness generate``: optimise a printable patch by expectation over transformation."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import torch

from harness.calibration.color import ColorProfile, load_color_profile
from harness.errors import InvalidArgumentError
from harness.models.cache import VariantCache
from harness.models.classes import imagenet_classes
from harness.models.spec import VariantSpec, parse_variant
from harness.models.variants import BuildSettings, Variant, build_variant, check_supported
from harness.models.zoo import ModelKind
from harness.patch.apply import LoadedPatch, apply_patch
from harness.patch.artifacts import (
    package_versions,
    plot_history,
    plot_preview,
    save_png,
    to_pixels,
    upsample,
    write_json,
)
from harness.patch.optimize import OptimiseSettings, StepRecord, optimise_patch
from harness.patch.shapes import COLLAPSE_STD, PatchShape, colour_spread, make_mask
from harness.patch.success import SuccessRates, success_rates
from harness.printing.patchfile import PatchTarget, content_patch_id
from harness.scenes import load_scenes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class GenerateRequest:
    """What to optimise, against which variants, and where to write the result."""

    target: str | None
    """Class name or index; None for an untargeted patch."""

    variants: tuple[VariantSpec, ...]
    weights: tuple[float, ...]
    """Loss weight of each variant, same length as ``variants``."""

    shape: PatchShape = PatchShape.SQUARE
    aspect: float = 1.0
    """Width / height of a rectangular patch."""

    resolution: int = 64
    """Side of the patch during optimisation, px."""

    print_resolution: int = 1024
    """Side of ``patch.png``, px (upsampled bicubically from the optimised patch)."""

    settings: OptimiseSettings = field(default_factory=lambda: OptimiseSettings(target=None))
    color_profile: str = "default-color"
    calibration_dir: Path = Path("calibration")
    images: Path | None = None
    labels: Path | None = None
    printables: Path = Path("printables")
    cache_dir: Path | None = None
    build: BuildSettings = field(default_factory=BuildSettings)
    evaluate: tuple[VariantSpec, ...] = ()
    """Variants to measure held-out success on; empty means the optimised variants."""

    evaluation_repeats: int = 4
    """Renders of each held-out scene per variant."""

    resume: bool = False
    device: str | None = None
    """``cpu`` or ``cuda``; None picks CUDA when present."""


@dataclass(frozen=True)
class GenerateResult:
    """Where the patch went and how well it works on held-out scenes."""

    patch_id: str
    folder: Path
    success: dict[str, SuccessRates]
    """Held-out success per variant name."""

    history: list[StepRecord]


def validate_variants(specs: tuple[VariantSpec, ...], weights: tuple[float, ...]) -> None:
    """Reject variants that cannot be optimised against, and bad weights.

    Raises:
        InvalidArgumentError: a deployed int8 variant, a model without layer access, or a
            weight list of another length or with a non-positive weight.
    """
    if not specs:
        raise InvalidArgumentError(
            "--variants is empty: give at least one, e.g. efficientnet-lite0@32"
        )
    for spec in specs:
        if spec.is_deployed:
            twin = parse_variant("8", spec.model).name
            raise InvalidArgumentError(
                f"variant {spec.name!r} runs in ONNX Runtime and is not differentiable: optimise "
                f"against its fake-quant twin {twin!r} and evaluate on {spec.name!r}"
            )
        if check_supported(spec).kind is ModelKind.ONNX:
            raise InvalidArgumentError(
                f"variant {spec.name!r} runs in ONNX Runtime and is not differentiable: "
                "optimise against a PyTorch model (built-in, TorchScript or factory)"
            )
    if len(weights) != len(specs):
        raise InvalidArgumentError(
            f"--variant-weights has {len(weights)} values for {len(specs)} variants: give one each"
        )
    if any(weight <= 0 for weight in weights):
        raise InvalidArgumentError(
            f"--variant-weights {list(weights)} is invalid: expected values > 0"
        )


def run_generate(
    request: GenerateRequest,
    status: Callable[[str], None] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
) -> GenerateResult:
    """Optimise a patch, write its folder and measure it on held-out scenes."""
    report = status or (lambda message: logger.info("%s", message))

    # Validate everything cheap before any model or image is loaded.
    classes = imagenet_classes()
    target = None if request.target is None else classes.resolve(request.target)
    validate_variants(request.variants, request.weights)
    request.settings.ranges.validate()
    profile = load_color_profile(request.color_profile, request.calibration_dir)
    sources = [check_supported(spec) for spec in request.variants]
    sizes = {source.preprocessing.input_size for source in sources}
    if len(sizes) != 1:
        raise InvalidArgumentError(
            f"variants have different input sizes {sorted(sizes)} px: optimise against models "
            "of one input size"
        )
    input_size = sizes.pop()
    if not 8 <= request.resolution <= input_size:
        raise InvalidArgumentError(
            f"--resolution {request.resolution} px is invalid: the patch must fit the model "
            f"input of {input_size} px, so use 8..{input_size}"
        )
    if request.print_resolution < request.resolution:
        raise InvalidArgumentError(
            f"--print-resolution {request.print_resolution} px is smaller than --resolution "
            f"{request.resolution} px: the printed patch would lose detail"
        )
    device = torch.device(request.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    scenes = load_scenes(request.images, request.labels)
    training_set, held_out_set = scenes.split()
    preprocessing = sources[0].preprocessing
    report(f"loading {len(training_set)} training and {len(held_out_set)} held-out scenes")
    training = training_set.tensors(preprocessing)
    held_out = held_out_set.tensors(preprocessing)
    calibration_id = training_set.fingerprint()

    cache = VariantCache(request.cache_dir)
    variants = [
        _build(spec, training, calibration_id, cache, request.build, report)
        for spec in request.variants
    ]
    models = [
        (_prepare(variant, device), weight)
        for variant, weight in zip(variants, request.weights, strict=True)
    ]

    mask = make_mask(request.shape, request.resolution, request.aspect)
    settings = replace(request.settings, target=target)
    run_key = _run_key(request, settings, calibration_id, profile)
    checkpoint = request.printables / ".runs" / run_key / "checkpoint.pt"
    report(f"optimising a {request.resolution} px patch for {settings.steps} steps")
    patch, history = optimise_patch(
        models,
        training.to(device),
        mask.to(device),
        settings,
        colour=profile,
        palette=profile.palette.to(device),
        checkpoint=checkpoint,
        resume=request.resume,
        on_step=on_step,
    )
    patch = patch.cpu()
    _warn_if_collapsed(patch, mask)

    # The printed patch: the optimised one upsampled smoothly, with its id from the pixels.
    printed = LoadedPatch(
        upsample(patch, request.print_resolution), upsample(mask, request.print_resolution)
    )
    target_info = None if target is None else PatchTarget(index=target, name=classes.name(target))
    patch_id = content_patch_id(to_pixels(printed.image), target_info)
    folder = request.printables / patch_id
    folder.mkdir(parents=True, exist_ok=True)

    evaluate = request.evaluate or request.variants
    report(f"measuring held-out success on {', '.join(spec.name for spec in evaluate)}")
    success = {}
    for spec in evaluate:
        variant = next((v for v in variants if v.spec == spec), None) or _build(
            spec, training, calibration_id, cache, request.build, report
        )
        success[spec.name] = success_rates(
            variant,
            held_out,
            LoadedPatch(patch, mask),
            target,
            ranges=settings.ranges,
            colour=profile,
            repeats=request.evaluation_repeats,
            seed=settings.seed + 1,
        )

    _write_outputs(
        folder,
        patch_id,
        request,
        settings,
        target_info,
        patch,
        mask,
        printed,
        history,
        success,
        profile,
        held_out,
        variants[0],
        len(training),
        len(held_out),
    )
    return GenerateResult(patch_id=patch_id, folder=folder, success=success, history=history)


def _build(
    spec: VariantSpec,
    training: torch.Tensor,
    calibration_id: str,
    cache: VariantCache,
    build: BuildSettings,
    report: Callable[[str], None],
) -> Variant:
    def report_step(message: str) -> None:
        report(f"{spec.name}: {message}")

    return build_variant(
        spec,
        training,
        calibration_id=calibration_id,
        cache=cache,
        settings=build,
        on_status=report_step,
    )


def _prepare(variant: Variant, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the variant's module on ``device`` in channels-last layout (faster convs on CPU)."""
    if variant.module is None:
        raise InvalidArgumentError(f"variant {variant.spec.name!r} is not differentiable")
    module = variant.module.to(device).to(memory_format=torch.channels_last)
    module.eval()
    return module


def _run_key(
    request: GenerateRequest, settings: OptimiseSettings, calibration_id: str, profile: ColorProfile
) -> str:
    # Everything that shapes the patch except the step budget, so --resume can extend a run.
    fields = {
        "target": settings.target,
        "variants": [spec.name for spec in request.variants],
        "weights": list(request.weights),
        "shape": request.shape.value,
        "aspect": request.aspect,
        "resolution": request.resolution,
        "batch": settings.batch_size,
        "lr": settings.learning_rate,
        "nps": settings.nps_weight,
        "tv": settings.tv_weight,
        "seed": settings.seed,
        "ranges": settings.ranges.to_json(),
        "scenes": calibration_id,
        "profile": profile.name,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _warn_if_collapsed(patch: torch.Tensor, mask: torch.Tensor) -> None:
    spread = colour_spread(patch, mask)
    if spread < COLLAPSE_STD:
        logger.warning(
            "the patch collapsed to nearly one colour (largest channel std %.3f): lower "
            "--nps-weight or --tv-weight",
            spread,
        )


def _write_outputs(
    folder: Path,
    patch_id: str,
    request: GenerateRequest,
    settings: OptimiseSettings,
    target: PatchTarget | None,
    patch: torch.Tensor,
    mask: torch.Tensor,
    printed: LoadedPatch,
    history: list[StepRecord],
    success: dict[str, SuccessRates],
    profile: ColorProfile,
    held_out: torch.Tensor,
    first: Variant,
    training_count: int,
    held_out_count: int,
) -> None:
    save_png(folder / "patch.png", printed.image)
    if request.shape is not PatchShape.SQUARE:
        save_png(folder / "mask.png", printed.mask)

    title = f"patch {patch_id}: " + (target.name if target else "untargeted")
    plot_history(folder / "loss.png", history, title)

    # Preview: the patch under sampled conditions on held-out scenes, with the first
    # variant's prediction on each frame.
    generator = torch.Generator().manual_seed(settings.seed + 2)
    count = min(16, max(1, len(held_out)))
    picks = torch.randint(0, len(held_out), (count,), generator=generator)
    frames, _ = apply_patch(
        held_out[picks],
        LoadedPatch(patch, mask),
        ranges=settings.ranges,
        colour=profile,
        generator=generator,
    )
    with torch.no_grad():
        probabilities = first.predict(frames).softmax(dim=1)
    captions = [
        f"{first.classes.name(int(p.argmax()))} {float(p.max()):.0%}" for p in probabilities
    ]
    plot_preview(folder / "preview.png", frames, captions)

    last = history[-1] if history else None
    document = {
        "id": patch_id,
        "target": None if target is None else {"index": target.index, "name": target.name},
        "untargeted": target is None,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "shape": request.shape.value,
        "aspect": request.aspect,
        "resolution_px": request.resolution,
        "print_resolution_px": request.print_resolution,
        "variants": [spec.name for spec in request.variants],
        "variant_weights": list(request.weights),
        "eot": settings.ranges.to_json(),
        "color_profile": {"name": profile.name, "generic": profile.generic},
        "optimiser": {
            "steps": settings.steps,
            "batch_size": settings.batch_size,
            "learning_rate": settings.learning_rate,
            "nps_weight": settings.nps_weight,
            "tv_weight": settings.tv_weight,
            "seed": settings.seed,
        },
        "scenes": {
            "source": str(request.images) if request.images else "skimage",
            "training": training_count,
            "held_out": held_out_count,
        },
        "losses": None
        if last is None
        else {"total": last.loss, "attack": last.attack, "nps": last.nps, "tv": last.tv},
        "held_out_success": {
            name: {
                "patch": rates.patch,
                "control": rates.control,
                "frames": rates.frames,
                "white_box": name in {spec.name for spec in request.variants},
            }
            for name, rates in success.items()
        },
        "versions": package_versions(),
        "history": [
            {
                "step": r.step,
                "loss": r.loss,
                "attack": r.attack,
                "nps": r.nps,
                "tv": r.tv,
                "success": r.success,
            }
            for r in history
        ],
    }
    write_json(folder / "patch.json", document)
