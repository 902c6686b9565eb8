"""Variants ready for scoring, live or replayed: built (or loaded from the cache), in ONNX
Runtime, with their clean top-1 agreement with fp32 and the degenerate flag.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from harness.models.cache import VariantCache
from harness.models.metrics import is_degenerate, top1_agreement
from harness.models.runtime import OnnxClassifier
from harness.models.spec import VariantSpec
from harness.models.variants import BuildSettings, Variant, build_variant, onnx_twin
from harness.models.zoo import Classifier
from harness.scenes import load_scenes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ScoringVariant:
    """A variant in ONNX Runtime with its clean agreement with fp32."""

    variant: Variant
    agreement: float
    """Top-1 agreement with fp32 on clean evaluation scenes, in [0, 1]."""

    agreement_images: int
    degenerate: bool

    @property
    def name(self) -> str:
        """Canonical variant name, e.g. ``efficientnet-lite0@4:gptq``."""
        return self.variant.spec.name


@dataclass(frozen=True, kw_only=True)
class VariantSettings:
    """Sources of the variants and settings of their agreement measurement."""

    cache_dir: Path | None
    build: BuildSettings
    images: Path | None = None
    """Folder of scene photos; None: the photos shipped with scikit-image."""

    labels: Path | None = None
    agreement_images: int = 32
    threads: int | None = None
    """ONNX Runtime threads per variant; None: torch's thread count."""


def prepare_variants(
    specs: Sequence[VariantSpec],
    settings: VariantSettings,
    report: Callable[[str], None],
) -> list[ScoringVariant]:
    """Build every variant, turn it into its ONNX Runtime twin and measure its agreement.

    The calibration and evaluation scenes are the same split as ``live`` uses, so a variant
    built by ``live`` is loaded from the cache rather than built again.

    Raises:
        HarnessError: a model, its weights or the scene images cannot be loaded.
    """
    cache = VariantCache(settings.cache_dir)
    calibration_set, evaluation_set = load_scenes(settings.images, settings.labels).split()
    evaluation_set = evaluation_set.limit(settings.agreement_images)

    prepared: dict[VariantSpec, ScoringVariant] = {}
    for model in dict.fromkeys(spec.model for spec in specs):
        float_spec = VariantSpec(model=model)
        reference = build_variant(float_spec, torch.empty(0), calibration_id="", cache=cache)
        preprocessing = reference.preprocessing
        report(f"{model}: loading {len(calibration_set)} calibration scenes")
        calibration = calibration_set.tensors(preprocessing)
        evaluation = evaluation_set.tensors(preprocessing)
        reference_model = reference.module if isinstance(reference.module, Classifier) else None
        reference_twin = _twin(reference, cache, settings.threads, report)
        reference_logits = reference_twin.predict(evaluation)

        for spec in (spec for spec in specs if spec.model == model):
            if spec == float_spec:
                fast = reference_twin
            else:
                built = build_variant(
                    spec,
                    calibration,
                    calibration_id=calibration_set.fingerprint(),
                    cache=cache,
                    settings=settings.build,
                    reference=reference_model,
                    on_status=_prefixed(report, spec.name),
                )
                fast = _twin(built, cache, settings.threads, report)
            agreement = top1_agreement(fast.predict(evaluation), reference_logits)
            prepared[spec] = ScoringVariant(
                variant=fast,
                agreement=agreement,
                agreement_images=len(evaluation),
                degenerate=is_degenerate(agreement),
            )
            logger.info(
                "%s: %.0f %% agreement with fp32 on %d scenes",
                spec.name,
                agreement * 100,
                len(evaluation),
            )
    return [prepared[spec] for spec in specs]


def _prefixed(report: Callable[[str], None], name: str) -> Callable[[str], None]:
    def report_step(message: str) -> None:
        report(f"{name}: {message}")

    return report_step


def _twin(
    variant: Variant, cache: VariantCache, threads: int | None, report: Callable[[str], None]
) -> Variant:
    report(f"{variant.spec.name}: preparing ONNX Runtime")
    if variant.module is not None:
        return onnx_twin(variant, cache, threads=threads)
    if variant.onnx is None:
        raise TypeError(f"variant {variant.spec.name} has neither a module nor an ONNX session")
    session = OnnxClassifier(
        variant.onnx.path, threads=threads, normalisation=variant.onnx.normalisation
    )
    return replace(variant, onnx=session)
