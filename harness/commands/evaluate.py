"""``patch-harness evaluate``: the digital protocol over variants, with a transfer matrix.

Every patch is pasted into every held-out scene at random positions and scales, repeated
with ``repeats`` seeds, and every variant classifies the same frames. The results are the
targeted attack success rate (ASR) per variant as mean ± std over the repeats, the
transfer matrix (rows = the variants a patch was made on, columns = the variant attacked)
and feature-map figures of the first patch. Scenes of the target class (or, without
labels, scenes the float model already calls the target) are left out.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import torch

from harness.calibration.color import load_color_profile
from harness.errors import DataError, InvalidArgumentError
from harness.evaluate.features import FeatureMaps, check_layers, default_layers, feature_maps
from harness.evaluate.outputs import (
    EvaluationFacts,
    PatchRow,
    VariantSummary,
    evaluation_document,
    plot_asr,
    plot_features,
    plot_transfer,
    write_tables,
)
from harness.evaluate.protocol import (
    PatchUnderTest,
    ProtocolSettings,
    attack_success,
    eligible_scenes,
    placements,
)
from harness.logs import track
from harness.models.cache import VariantCache
from harness.models.classes import imagenet_classes
from harness.models.metrics import is_degenerate, top1_agreement
from harness.models.spec import VariantSpec
from harness.models.variants import (
    BuildSettings,
    Variant,
    build_variant,
    check_supported,
    onnx_twin,
)
from harness.patch.apply import load_patch
from harness.patch.artifacts import write_json
from harness.patch.eot import ColorMapping, render
from harness.printing.patchfile import PATCH_JSON, read_patch
from harness.scenes import load_scenes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PatchSource:
    """A patch to evaluate: a folder under ``printables``, or an image with its target."""

    patch_id: str | None = None
    """Folder name under ``printables``, or the path of a patch folder."""

    image: Path | None = None
    target: str | None = None
    """ImageNet class name or index of ``image``; a folder's patch.json names its own."""


@dataclass(frozen=True, kw_only=True)
class EvaluateRequest:
    """Patches, variants, protocol and outputs of an evaluation."""

    patches: tuple[PatchSource, ...]
    variants: tuple[VariantSpec, ...]
    settings: ProtocolSettings = field(default_factory=ProtocolSettings)
    printables: Path = Path("printables")
    images: Path | None = None
    labels: Path | None = None
    limit: int | None = None
    """Most held-out scenes (the first ones); None uses all of them."""

    output: Path | None = None
    """Folder of the results; None makes ``evaluations/<time>``."""

    color_profile: str | None = None
    """Printer+camera colour profile for the patch; None keeps digital colour."""

    calibration_dir: Path = Path("calibration")
    cache_dir: Path | None = None
    build: BuildSettings = field(default_factory=BuildSettings)
    layers: tuple[str, ...] = ()
    """Module names for the feature maps; empty picks layers spread over the depth."""

    feature_images: int = 16
    """Scenes averaged in the feature maps."""

    threads: int | None = None
    """ONNX Runtime threads per variant; None: all cores."""


@dataclass(frozen=True)
class EvaluateResult:
    """The output folder, per-variant summaries and per-patch results."""

    folder: Path
    variants: list[VariantSummary]
    rows: list[PatchRow]
    files: list[Path]


@dataclass(frozen=True)
class _Prepared:
    name: str
    fast: Variant
    """The ONNX Runtime twin, or the variant itself when it runs in ONNX Runtime already."""

    module: torch.nn.Module | None
    """The torch module for feature maps; None for ONNX Runtime variants."""


def run_evaluate(
    request: EvaluateRequest, status: Callable[[str], None] | None = None
) -> EvaluateResult:
    """Run the protocol and write ``evaluation.json``, CSV tables and PNG figures.

    Raises:
        HarnessError: bad input (the message names the value and the fix): no patch or
            variant, a patch image without a target, an untargeted patch, an unknown class,
            variant or layer, an impossible placement range, or an empty scene folder.
    """
    report = status or (lambda message: logger.info("%s", message))

    # Everything cheap is checked before any model is loaded.
    _check_request(request)
    sources = [check_supported(spec) for spec in request.variants]
    sizes = {source.preprocessing.input_size for source in sources}
    if len(sizes) != 1:
        raise InvalidArgumentError(
            f"variants have different input sizes {sorted(sizes)} px: evaluate models of one "
            "input size together"
        )
    input_size = sizes.pop()
    under_test = _load_patches(request, input_size)
    colour = (
        None
        if request.color_profile is None
        else load_color_profile(request.color_profile, request.calibration_dir)
    )
    scenes = load_scenes(request.images, request.labels)
    calibration_set, evaluation_set = scenes.split()
    evaluation_set = evaluation_set.limit(request.limit)
    if not len(evaluation_set):
        raise DataError(
            f"the scene set has {len(scenes)} images, too few for a held-out half: give more"
        )

    preprocessing = sources[0].preprocessing
    report(f"loading {len(calibration_set)} calibration and {len(evaluation_set)} held-out scenes")
    calibration = calibration_set.tensors(preprocessing)
    evaluation = evaluation_set.tensors(preprocessing)
    labels = evaluation_set.labels() if evaluation_set.labelled else None
    prepared, reference = _prepare_variants(
        request, calibration, calibration_set.fingerprint(), report
    )

    # Clean behaviour: agreement with fp32, accuracy, and the reference's labels.
    clean_logits = {item.name: item.fast.predict(evaluation) for item in prepared}
    reference_logits = clean_logits.get(reference.name)
    if reference_logits is None:
        reference_logits = reference.fast.predict(evaluation)
    summaries = []
    clean_top1: dict[str, torch.Tensor] = {}
    for item in prepared:
        logits = clean_logits[item.name]
        clean_top1[item.name] = logits.argmax(dim=1)
        agreement = top1_agreement(logits, reference_logits)
        accuracy = (
            None if labels is None else float((clean_top1[item.name] == labels).float().mean())
        )
        summaries.append(
            VariantSummary(
                name=item.name,
                agreement=agreement,
                degenerate=is_degenerate(agreement),
                accuracy=accuracy,
            )
        )
    reference_top1 = reference_logits.argmax(dim=1)

    # The protocol: every patch, every repeat, every variant on the same frames.
    settings = request.settings
    batches = math.ceil(len(evaluation) / settings.batch_size)
    total = len(under_test) * settings.repeats * batches
    ticks = iter(track(range(total), total=total, description="evaluate"))

    def advance() -> None:
        next(ticks, None)

    rows = []
    for patch in under_test:
        mask = eligible_scenes(labels, reference_top1, patch.target)
        indices = mask.nonzero().flatten()
        if not len(indices):
            raise DataError(
                f"no held-out scene is left for patch {patch.label!r}: every one is of the "
                f"target class {patch.target}; use other scenes"
            )
        report(f"patch {patch.label}: {settings.repeats} repeats over {len(indices)} scenes")
        models = [(item.name, item.fast) for item in prepared]
        success = attack_success(
            models,
            evaluation[indices],
            patch,
            settings,
            colour=colour,
            on_batch=advance,
        )
        rows.append(
            PatchRow(
                label=patch.label,
                target=patch.target,
                target_name=imagenet_classes().name(patch.target),
                clean_target_rate={
                    name: float((top1[indices] == patch.target).float().mean())
                    for name, top1 in clean_top1.items()
                },
                success=success,
            )
        )
    # Run the tracker to its end, which closes its progress bar.
    for _ in ticks:
        pass

    # Feature maps of the first patch at one fixed placement.
    layers = list(request.layers) or default_layers(_any_module(prepared, reference))
    first = under_test[0]
    indices = eligible_scenes(labels, reference_top1, first.target).nonzero().flatten()
    chosen = evaluation[indices[: request.feature_images]]
    report(f"feature maps of {len(layers)} layers on {len(chosen)} scenes")
    maps = _feature_maps(prepared, layers, chosen, first, settings, colour)

    folder = request.output or Path("evaluations") / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    names = [item.name for item in prepared]
    degenerate = frozenset(summary.name for summary in summaries if summary.degenerate)
    files = write_tables(folder, rows, names, degenerate)
    plot_asr(folder / "asr.png", rows, names, degenerate)
    plot_transfer(folder / "transfer.png", rows, names, degenerate)
    files += [folder / "asr.png", folder / "transfer.png"]
    files += plot_features(folder, layers, maps, f"patch {first.label}")
    document = evaluation_document(
        EvaluationFacts(
            settings=settings,
            color_profile=request.color_profile,
            scene_limit=request.limit,
            images=request.images,
            labels=request.labels,
            held_out=len(evaluation),
        ),
        summaries,
        rows,
        layers,
        maps,
    )
    write_json(folder / "evaluation.json", document)
    files.insert(0, folder / "evaluation.json")
    return EvaluateResult(folder=folder, variants=summaries, rows=rows, files=files)


def _check_request(request: EvaluateRequest) -> None:
    if not request.patches:
        raise InvalidArgumentError(
            "no patch given: name one with --patch PATCH_ID or --image FILE --target CLASS"
        )
    if not request.variants:
        raise InvalidArgumentError(
            "--variants is empty: give at least one, e.g. efficientnet-lite0@32"
        )
    settings = request.settings
    if settings.repeats < 1:
        raise InvalidArgumentError(f"--repeats {settings.repeats} is invalid: expected 1 or more")
    if settings.batch_size < 1:
        raise InvalidArgumentError(
            f"--batch-size {settings.batch_size} is invalid: expected 1 or more"
        )
    if request.limit is not None and request.limit < 1:
        raise InvalidArgumentError(f"--limit {request.limit} is invalid: expected 1 or more")
    if request.feature_images < 1:
        raise InvalidArgumentError(
            f"--feature-images {request.feature_images} is invalid: expected 1 or more"
        )
    settings.ranges.validate()
    for source in request.patches:
        if source.image is not None and source.target is None:
            raise InvalidArgumentError(
                f"patch image {str(source.image)!r} has no target: add --target CLASS (an "
                "ImageNet class name or index) after --image"
            )


def _load_patches(request: EvaluateRequest, input_size: int) -> list[PatchUnderTest]:
    classes = imagenet_classes()
    # A patch much larger than its largest rendering only aliases when warped down.
    largest = math.ceil(math.sqrt(request.settings.ranges.area.high) * input_size)
    loaded: list[PatchUnderTest] = []
    for source in request.patches:
        if source.image is not None:
            assert source.target is not None
            target = classes.resolve(source.target)
            patch = load_patch(source.image)
            label = source.image.name
        else:
            assert source.patch_id is not None
            root, patch_id = request.printables, source.patch_id
            if Path(patch_id).is_dir():
                # A path to the folder itself, e.g. results/patch-4/3f2a9c0d1e4b/.
                root, patch_id = Path(patch_id).parent, Path(patch_id).name
            info = read_patch(root, patch_id)
            if info.target is None:
                raise InvalidArgumentError(
                    f"patch {patch_id!r} is untargeted: evaluate measures targeted "
                    "success, so give a targeted patch"
                )
            target = info.target.index
            patch = load_patch(info.folder)
            label = _source_label(info.folder / PATCH_JSON, patch_id)
        if patch.image.shape[-1] > 2 * largest:
            patch = patch.resized(2 * largest)
        loaded.append(PatchUnderTest(label=_unique(label, loaded), patch=patch, target=target))
    return loaded


def _source_label(path: Path, patch_id: str) -> str:
    """Return ``variants (id)`` from patch.json, e.g. ``efficientnet-lite0@4:gptq (3f2a…)``."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return patch_id
    variants = document.get("variants") if isinstance(document, dict) else None
    if not isinstance(variants, list) or not variants:
        return patch_id
    return f"{'+'.join(str(name) for name in variants)} ({patch_id[:6]})"


def _unique(label: str, loaded: list[PatchUnderTest]) -> str:
    taken = {item.label for item in loaded}
    candidate, number = label, 2
    while candidate in taken:
        candidate, number = f"{label} ({number})", number + 1
    return candidate


def _prepare_variants(
    request: EvaluateRequest,
    calibration: torch.Tensor,
    calibration_id: str,
    report: Callable[[str], None],
) -> tuple[list[_Prepared], _Prepared]:
    """Build every variant and its ONNX Runtime twin; return them and the fp32 reference."""
    cache = VariantCache(request.cache_dir)
    reference_spec = VariantSpec(model=request.variants[0].model)
    reference_variant = build_variant(reference_spec, calibration, calibration_id="", cache=cache)

    def prepare(spec: VariantSpec) -> _Prepared:
        def report_step(message: str) -> None:
            report(f"{spec.name}: {message}")

        variant = (
            reference_variant
            if spec == reference_spec
            else build_variant(
                spec,
                calibration,
                calibration_id=calibration_id,
                cache=cache,
                settings=request.build,
                on_status=report_step,
            )
        )
        report(f"{spec.name}: preparing ONNX Runtime")
        fast = onnx_twin(variant, cache, threads=request.threads)
        module = variant.module
        if module is not None:
            module.eval()
        return _Prepared(name=spec.name, fast=fast, module=module)

    prepared = [prepare(spec) for spec in request.variants]
    reference = next((item for item in prepared if item.name == reference_spec.name), None)
    return prepared, reference or prepare(reference_spec)


def _any_module(prepared: list[_Prepared], reference: _Prepared) -> torch.nn.Module:
    for item in [reference, *prepared]:
        if item.module is not None:
            return item.module
    raise InvalidArgumentError(
        "no variant runs in PyTorch, so there are no layers for the feature maps: add a "
        "fake-quant or fp32 variant"
    )


def _feature_maps(
    prepared: list[_Prepared],
    layers: list[str],
    scenes: torch.Tensor,
    patch: PatchUnderTest,
    settings: ProtocolSettings,
    colour: ColorMapping | None,
) -> dict[str, FeatureMaps]:
    # One placement for every scene (upper left, mid-range area) keeps the patch in one
    # place, so the mean map shows where it sits.
    conditions = placements(settings, len(scenes), 0)
    area = (settings.ranges.area.low + settings.ranges.area.high) / 2
    conditions = replace(
        conditions,
        x=torch.full_like(conditions.x, 0.25),
        y=torch.full_like(conditions.y, 0.25),
        area=torch.full_like(conditions.area, area),
    )
    patched = render(
        scenes,
        patch.patch.image,
        patch.patch.mask,
        conditions,
        colour=colour,
        fov_deg=settings.ranges.fov_deg,
    )
    maps = {}
    for item in prepared:
        if item.module is None:
            logger.info("%s runs in ONNX Runtime: no feature maps", item.name)
            continue
        check_layers(item.module, layers)
        maps[item.name] = feature_maps(item.module, layers, scenes, patched)
    return maps
