"""The files of a scoring run: ``scores/<run>.csv`` per frame and variant, ``<run>.json`` summary.

JSON numbers that are not finite (a rate over no frames) are written as null. Rates are
fractions in [0, 1]; angles in degrees, distances in m, areas in px, times in s.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.capture.session import Phase
from harness.models.classes import ClassList
from harness.scoring.bins import BinEdges
from harness.scoring.frames import SkipTally
from harness.scoring.intervals import Rate
from harness.scoring.outcomes import FrameOutcome
from harness.scoring.reference import Reference
from harness.scoring.summary import BinStats, Difference, PhaseStats, VariantSummary
from harness.scoring.variants import ScoringVariant

KIND = "patch-harness/scores"
VERSION = 1
SCORES_FOLDER = "scores"

CSV_COLUMNS = (
    "frame",
    "time_s",
    "phase",
    "tags",
    "conditions",
    "markers",
    "luminance",
    "sharpness",
    "yaw_deg",
    "pitch_deg",
    "roll_deg",
    "distance_m",
    "patch_area_px",
    "variant",
    "top1",
    "top1_name",
    "probability",
    "target_probability",
    "success",
    "misclassified",
)


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    """Facts of a run that the summary states beside the rates."""

    run: str
    session_id: str
    created: str
    """ISO 8601 time of the run."""

    target: int | None
    reference: Reference
    white_box: dict[str, bool | None]
    schema_version: int
    """Schema version of the session's ``session.json``."""

    notes: tuple[str, ...]
    """Defaults assumed for fields of an older ``session.json``."""

    truncated_tail: bool
    replay_s: float
    """Wall time of the replay, without building the variants, in s."""

    recorded_fps: float | None
    """Frames per second at which the session was recorded; None when unknown."""

    batch_size: int


def write_frames_csv(
    path: Path,
    outcomes: Sequence[FrameOutcome],
    variants: Sequence[str],
    classes: ClassList,
    *,
    target: int | None,
    reference: int | None,
) -> None:
    """Write one row per frame and variant, in frame order; empty cells for unknown values."""
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for outcome in outcomes:
            conditions = outcome.conditions
            measured = [
                "" if conditions is None else len(conditions.markers),
                *(
                    _cell(None if conditions is None else getattr(conditions, name))
                    for name in (
                        "luminance",
                        "sharpness",
                        "yaw_deg",
                        "pitch_deg",
                        "roll_deg",
                        "distance_m",
                        "patch_area_px",
                    )
                ),
            ]
            for variant in variants:
                output = outcome.outputs[variant]
                writer.writerow(
                    [
                        outcome.index,
                        f"{outcome.time_s:.4f}",
                        outcome.phase.value,
                        " ".join(outcome.tags),
                        outcome.conditions_source.value,
                        *measured,
                        variant,
                        output.top1,
                        classes.name(output.top1),
                        f"{output.probability:.6f}",
                        _cell(output.target_probability),
                        "" if target is None else int(output.top1 == target),
                        "" if reference is None else int(output.top1 != reference),
                    ]
                )
    partial.replace(path)


def summary_document(
    facts: RunFacts,
    variants: Sequence[ScoringVariant],
    summaries: dict[str, VariantSummary],
    edges: BinEdges,
    tally: SkipTally,
    classes: ClassList,
) -> dict[str, Any]:
    """Return the JSON summary of a run."""
    replayed = tally.decoded
    reference = facts.reference
    return {
        "kind": KIND,
        "version": VERSION,
        "run": facts.run,
        "session_id": facts.session_id,
        "created": facts.created,
        "target": None
        if facts.target is None
        else {"index": facts.target, "name": classes.name(facts.target)},
        "reference": {
            "index": reference.label,
            "name": None if reference.label is None else classes.name(reference.label),
            "source": reference.source.value,
            "variant": reference.variant,
            "votes": reference.votes,
            "clean_frames": reference.clean_frames,
        },
        "frames": {
            "lines": tally.lines,
            "replayed": replayed,
            "skipped": tally.skipped,
            "truncated_tail": facts.truncated_tail,
            "missing_segments": _by_segment(tally.missing_segments),
            "unreadable_segments": _by_segment(tally.unreadable_segments),
            "cut_segments": _by_segment(tally.cut_segments),
            "open_segments": tally.open_segments,
        },
        "session_schema": {"version": facts.schema_version, "notes": list(facts.notes)},
        "timing": {
            "replay_s": _number(facts.replay_s),
            "frames_per_s": _number(replayed / facts.replay_s if facts.replay_s > 0 else None),
            "recorded_fps": _number(facts.recorded_fps),
            "batch_size": facts.batch_size,
        },
        "bins": {
            condition.value: [_number(edge) for edge in condition_edges]
            for condition, condition_edges in edges.edges.items()
        },
        "variants": [
            {
                "name": variant.name,
                "bits": variant.variant.spec.bits_label,
                "agreement": _number(variant.agreement),
                "agreement_images": variant.agreement_images,
                "degenerate": variant.degenerate,
                "white_box": facts.white_box.get(variant.name),
                "summary": _variant_summary(summaries[variant.name]),
            }
            for variant in variants
        ],
        "groups": _groups(variants, summaries, facts.white_box),
    }


def write_summary(path: Path, document: dict[str, Any]) -> None:
    """Write the summary as indented UTF-8 JSON, atomically."""
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    partial.replace(path)


def _variant_summary(summary: VariantSummary) -> dict[str, Any]:
    return {
        "phases": {phase.value: _phase(stats) for phase, stats in summary.phases.items()},
        "success_difference": _difference(summary.success_difference),
        "misclassification_difference": _difference(summary.misclassification_difference),
        "bins": {
            condition.value: [_bin(stats) for stats in bins]
            for condition, bins in summary.bins.items()
        },
        "unbinned": {
            condition.value: {phase.value: count for phase, count in counts.items()}
            for condition, counts in summary.unbinned.items()
        },
    }


def _groups(
    variants: Sequence[ScoringVariant],
    summaries: dict[str, VariantSummary],
    white_box: dict[str, bool | None],
) -> dict[str, Any] | None:
    """Return the mean patch-phase rates of the white-box and the transfer variants.

    Degenerate variants are listed under ``degenerate`` and left out of the means, because
    a broken model's rates do not measure how well the patch transfers.
    """
    if all(flag is None for flag in white_box.values()):
        return None
    groups = {}
    for group, flag in (("white_box", True), ("transfer", False)):
        members = [variant for variant in variants if white_box.get(variant.name) is flag]
        names = [variant.name for variant in members if not variant.degenerate]
        patch = [summaries[name].phases[Phase.PATCH] for name in names]
        groups[group] = {
            "variants": names,
            "degenerate": [variant.name for variant in members if variant.degenerate],
            "mean_success": _mean([stats.success for stats in patch]),
            "mean_misclassification": _mean([stats.misclassification for stats in patch]),
        }
    return groups


def _mean(rates: list[Rate | None]) -> float | None:
    values = [rate.value for rate in rates if rate is not None and rate.total]
    return _number(sum(values) / len(values)) if values else None


def _phase(stats: PhaseStats) -> dict[str, Any]:
    return {
        "frames": stats.frames,
        "success": _rate(stats.success),
        "misclassification": _rate(stats.misclassification),
    }


def _bin(stats: BinStats) -> dict[str, Any]:
    return {
        "label": stats.label,
        "low": _number(stats.low),
        "high": _number(stats.high),
        "phases": {phase.value: _phase(phase_stats) for phase, phase_stats in stats.phases.items()},
        "success_difference": _difference(stats.success_difference),
        "misclassification_difference": _difference(stats.misclassification_difference),
    }


def _rate(rate: Rate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    return {
        "count": rate.count,
        "total": rate.total,
        "rate": _number(rate.value),
        "low": _number(rate.low),
        "high": _number(rate.high),
    }


def _difference(difference: Difference | None) -> dict[str, Any] | None:
    if difference is None:
        return None
    return {
        "value": _number(difference.value),
        "low": _number(difference.low),
        "high": _number(difference.high),
    }


def _by_segment(counts: dict[int, int]) -> list[dict[str, int]]:
    return [{"segment": number, "frames": frames} for number, frames in sorted(counts.items())]


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def _cell(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:g}"
