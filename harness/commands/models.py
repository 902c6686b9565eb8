"""``patch-harness models``: build variants and measure them on clean scenes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from harness.models.cache import VariantCache
from harness.models.metrics import is_degenerate, latency_ms, top1_agreement, topk_accuracy
from harness.models.spec import VariantSpec
from harness.models.variants import BuildSettings, Variant, build_variant, check_supported
from harness.models.zoo import Classifier
from harness.scenes import SceneSet, load_scenes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ModelsRequest:
    """Variants to build and the scenes to measure them on."""

    variants: tuple[VariantSpec, ...]
    images: Path | None = None
    labels: Path | None = None
    evaluation_limit: int | None = None
    """Measure on at most this many evaluation images (all when None)."""

    cache_dir: Path | None = None
    settings: BuildSettings = field(default_factory=BuildSettings)
    measure_latency: bool = True


@dataclass(frozen=True)
class VariantRow:
    """One line of the models table."""

    variant: str
    model: str
    bits: str
    method: str
    size_mb: float
    latency_ms: float | None
    """Median time per image at batch 1 on this machine, in ms."""

    agreement: float
    """Top-1 agreement with the fp32 model on the evaluation scenes, in [0, 1]."""

    top1: float | None
    top5: float | None
    degenerate: bool
    build_seconds: float
    cached: bool


@dataclass(frozen=True)
class ModelsResult:
    """The rows and what they were measured on."""

    rows: tuple[VariantRow, ...]
    scenes: str
    calibration_images: int
    evaluation_images: int
    labelled: bool

    def to_json(self) -> dict[str, object]:
        """Return a JSON-serialisable summary."""
        return {
            "scenes": self.scenes,
            "calibration_images": self.calibration_images,
            "evaluation_images": self.evaluation_images,
            "labelled": self.labelled,
            "variants": [asdict(row) for row in self.rows],
        }


def run_models(request: ModelsRequest, status: Callable[[str], None] | None = None) -> ModelsResult:
    """Build every requested variant, then measure agreement, accuracy, size and latency."""
    report = status or (lambda message: logger.info("%s", message))
    for spec in request.variants:
        check_supported(spec)

    cache = VariantCache(request.cache_dir)

    # Load every float model before any image, so a bad model file fails at once.
    models = list(dict.fromkeys(spec.model for spec in request.variants))
    references = {
        name: build_variant(VariantSpec(model=name), torch.empty(0), calibration_id="", cache=cache)
        for name in models
    }

    scenes = load_scenes(request.images, request.labels)
    calibration_set, evaluation_set = scenes.split()
    evaluation_set = evaluation_set.limit(request.evaluation_limit)

    rows: list[VariantRow] = []
    for name, reference in references.items():
        specs = [spec for spec in request.variants if spec.model == name]
        rows.extend(
            _measure_model(
                reference, specs, calibration_set, evaluation_set, cache, request, report
            )
        )

    return ModelsResult(
        rows=tuple(rows),
        scenes=scenes.source,
        calibration_images=len(calibration_set),
        evaluation_images=len(evaluation_set),
        labelled=evaluation_set.labelled,
    )


def _measure_model(
    reference: Variant,
    specs: list[VariantSpec],
    calibration_set: SceneSet,
    evaluation_set: SceneSet,
    cache: VariantCache,
    request: ModelsRequest,
    report: Callable[[str], None],
) -> list[VariantRow]:
    source = reference.source
    model_name = source.name
    report(
        f"{model_name}: loading {len(calibration_set)} calibration and "
        f"{len(evaluation_set)} evaluation images"
    )
    calibration = calibration_set.tensors(source.preprocessing)
    evaluation = evaluation_set.tensors(source.preprocessing)
    calibration_id = calibration_set.fingerprint()
    labels = evaluation_set.labels() if evaluation_set.labelled else None

    reference_model = reference.module if isinstance(reference.module, Classifier) else None
    report(f"{model_name}: fp32 on {len(evaluation)} images")
    reference_logits = reference.predict(evaluation)

    rows = []
    for spec in specs:

        def report_step(message: str, name: str = spec.name) -> None:
            report(f"{name}: {message}")

        variant = build_variant(
            spec,
            calibration,
            calibration_id=calibration_id,
            cache=cache,
            settings=request.settings,
            reference=reference_model,
            on_status=report_step,
        )
        report(f"{spec.name}: measuring")
        logits = reference_logits if spec.is_float else variant.predict(evaluation)
        rows.append(_row(variant, logits, reference_logits, labels, request.measure_latency))
    return rows


def _row(
    variant: Variant,
    logits: torch.Tensor,
    reference_logits: torch.Tensor,
    labels: torch.Tensor | None,
    measure_latency: bool,
) -> VariantRow:
    spec = variant.spec
    agreement = top1_agreement(logits, reference_logits)
    latency = latency_ms(variant, variant.preprocessing.input_size) if measure_latency else None
    return VariantRow(
        variant=spec.name,
        model=spec.model,
        bits=spec.bits_label,
        method=spec.method_label,
        size_mb=variant.size_bytes / 1e6,
        latency_ms=latency,
        agreement=agreement,
        top1=topk_accuracy(logits, labels, 1) if labels is not None else None,
        top5=topk_accuracy(logits, labels, 5) if labels is not None else None,
        degenerate=is_degenerate(agreement),
        build_seconds=variant.build_seconds,
        cached=variant.cached,
    )


def print_table(result: ModelsResult) -> None:
    """Print the rows as a rich table on stdout; degenerate variants are marked in red."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Variants on {result.evaluation_images} evaluation scenes ({result.scenes}); "
        f"calibration on {result.calibration_images} other scenes",
        title_justify="left",
    )
    for column in ("variant", "bits", "method", "size MB", "ms/img (b=1)", "agree fp32"):
        table.add_column(column, justify="left" if column in ("variant", "method") else "right")
    if result.labelled:
        table.add_column("top-1", justify="right")
        table.add_column("top-5", justify="right")
    table.add_column("status")

    for row in result.rows:
        cells = [
            row.variant,
            row.bits,
            row.method,
            f"{row.size_mb:.2f}",
            "-" if row.latency_ms is None else f"{row.latency_ms:.1f}",
            f"{row.agreement:.1%}",
        ]
        if result.labelled:
            cells += [f"{row.top1:.1%}", f"{row.top5:.1%}"]
        status = "[bold red]degenerate[/]" if row.degenerate else "ok"
        if row.cached:
            status += " (cached)"
        elif row.build_seconds > 1:
            status += f" (built in {row.build_seconds / 60:.1f} min)"
        cells.append(status)
        table.add_row(*cells)
    # A pipe or file gets full rows instead of rich's default 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
