"""``patch-harness score``: replay a recorded session through any set of variants.

:func:`prepare_score` reads the session, including an older schema or a damaged recording
as far as it is readable, and builds the variants. :func:`score_prepared` replays every
readable frame through them in batches. It writes ``scores/<run>.csv`` (per frame and
variant) and ``scores/<run>.json`` (per variant, phase and condition bin, with Wilson 95 %
intervals). :func:`run_score` does both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.capture.salvage import SalvagedSession, salvage_session
from harness.errors import InvalidArgumentError
from harness.logs import track
from harness.models.classes import imagenet_classes
from harness.models.spec import VariantSpec, parse_variant, standard_sweep
from harness.models.variants import BuildSettings, check_supported
from harness.scoring.bins import BinEdges
from harness.scoring.frames import SkipTally
from harness.scoring.output import (
    SCORES_FOLDER,
    RunFacts,
    summary_document,
    write_frames_csv,
    write_summary,
)
from harness.scoring.reference import choose_reference
from harness.scoring.replay import ReplaySettings, replay
from harness.scoring.summary import summarise
from harness.scoring.transfer import patch_variants, split_white_box
from harness.scoring.variants import ScoringVariant, VariantSettings, prepare_variants

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ScoreRequest:
    """The session to score, its variants, condition bins and labels."""

    session: Path
    variants: tuple[VariantSpec, ...] = ()
    """Empty: the variants live at record time, or the standard sweep when none are recorded."""

    target: str | None = None
    """ImageNet class name or index; None: the session's target."""

    true_class: str | None = None
    """True class of the clean scene; None: the session's, else the fp32 clean majority."""

    printables: Path = Path("printables")
    edges: BinEdges = field(default_factory=BinEdges)
    run: str | None = None
    """Name of the output files; None: the current local time, ``YYYYMMDD-HHMMSS``."""

    batch_size: int = 32
    variant_settings: VariantSettings = field(
        default_factory=lambda: VariantSettings(cache_dir=None, build=BuildSettings())
    )


@dataclass(frozen=True, kw_only=True)
class ScoreResult:
    """The files a run wrote and its headline numbers."""

    csv_path: Path
    json_path: Path
    summary: dict[str, Any]
    """The content of the JSON file."""


@dataclass(frozen=True, kw_only=True)
class ScoreSetup:
    """A checked request with its session read and its variants ready, the input of
    :func:`score_prepared`."""

    request: ScoreRequest
    run: str
    salvaged: SalvagedSession
    target: int | None
    true_class: int | None
    variants: list[ScoringVariant]


def prepare_score(request: ScoreRequest, status: Callable[[str], None] | None = None) -> ScoreSetup:
    """Check the request, read the session and build the variants.

    Args:
        request: what to score and how.
        status: receives one-line messages while variants are built.

    Raises:
        HarnessError: the folder is not a session or has a newer schema, a variant, target
            or class is unknown, or the batch size or run name is invalid.
    """
    report = status or (lambda message: logger.info("%s", message))
    if request.batch_size < 1:
        raise InvalidArgumentError(
            f"--batch-size {request.batch_size} is invalid: expected a positive integer"
        )
    run = request.run or datetime.now().strftime("%Y%m%d-%H%M%S")
    if not run or "/" in run or run.startswith("."):
        raise InvalidArgumentError(f"--run {run!r} is invalid: expected a plain file name")

    # Everything cheap is checked before any model is loaded.
    salvaged = salvage_session(request.session)
    info = salvaged.session.info
    for note in salvaged.notes:
        logger.warning("%s", note)
    classes = imagenet_classes()
    target = classes.resolve(request.target) if request.target is not None else None
    if target is None and info.target is not None:
        target = info.target.index
    true_class = _true_class(request, salvaged)
    specs = _specs(request, salvaged, needs_float=true_class is None)
    for spec in specs:
        check_supported(spec)

    variants = prepare_variants(specs, request.variant_settings, report)
    return ScoreSetup(
        request=request,
        run=run,
        salvaged=salvaged,
        target=target,
        true_class=true_class,
        variants=variants,
    )


def run_score(request: ScoreRequest, status: Callable[[str], None] | None = None) -> ScoreResult:
    """Prepare and run a score request: :func:`prepare_score`, then :func:`score_prepared`.

    Raises:
        HarnessError: as :func:`prepare_score` raises.
    """
    return score_prepared(prepare_score(request, status))


def score_prepared(setup: ScoreSetup) -> ScoreResult:
    """Replay the session and write the CSV and JSON files described in the module docstring.

    The replay shows a rich progress bar on a terminal. A rich status line still shown by
    the caller would draw over it, so close it first.
    """
    request, salvaged, target = setup.request, setup.salvaged, setup.target
    session, info, variants = salvaged.session, salvaged.session.info, setup.variants
    names = [variant.name for variant in variants]
    settings = ReplaySettings(
        crop_scale=info.scoring.crop_scale,
        target=target,
        patch_size_mm=info.patch.size_mm,
        batch_size=request.batch_size,
    )
    tally = SkipTally()
    started = time.perf_counter()
    outcomes = list(
        track(
            replay(session, [variant.variant for variant in variants], settings, tally),
            total=len(session.frames),
            description=f"scoring {len(session.frames)} frames with {len(variants)} variants",
        )
    )
    replay_s = time.perf_counter() - started
    logger.info(
        "replayed %d frames in %.1f s (%.1f frames/s), %d skipped",
        len(outcomes),
        replay_s,
        len(outcomes) / replay_s if replay_s > 0 else 0.0,
        tally.skipped,
    )

    float_names = [variant.name for variant in variants if variant.variant.spec.is_float]
    reference_variant = float_names[0] if float_names else names[0]
    reference = choose_reference(
        outcomes, true_class=setup.true_class, reference_variant=reference_variant
    )
    summaries = summarise(
        outcomes, names, target=target, reference=reference.label, edges=request.edges
    )
    facts = RunFacts(
        run=setup.run,
        session_id=info.session_id,
        created=datetime.now().astimezone().isoformat(timespec="seconds"),
        target=target,
        reference=reference,
        white_box=split_white_box(names, patch_variants(request.printables, info.patch.patch_id)),
        schema_version=salvaged.version,
        notes=salvaged.notes,
        truncated_tail=session.truncated_tail,
        replay_s=replay_s,
        recorded_fps=recorded_fps(salvaged),
        batch_size=request.batch_size,
    )

    classes = imagenet_classes()
    folder = request.session / SCORES_FOLDER
    folder.mkdir(exist_ok=True)
    csv_path, json_path = folder / f"{setup.run}.csv", folder / f"{setup.run}.json"
    write_frames_csv(csv_path, outcomes, names, classes, target=target, reference=reference.label)
    document = summary_document(facts, variants, summaries, request.edges, tally, classes)
    write_summary(json_path, document)
    return ScoreResult(csv_path=csv_path, json_path=json_path, summary=document)


def recorded_fps(salvaged: SalvagedSession) -> float | None:
    """Return the rate the frames were recorded at: frames over their time span, in 1/s."""
    frames = salvaged.session.frames
    if len(frames) >= 2 and frames[-1].time_s > frames[0].time_s:
        return (len(frames) - 1) / (frames[-1].time_s - frames[0].time_s)
    fps = salvaged.session.info.source.fps
    return fps if fps > 0 else None


def _true_class(request: ScoreRequest, salvaged: SalvagedSession) -> int | None:
    if request.true_class is not None:
        return imagenet_classes().resolve(request.true_class)
    reference = salvaged.session.info.scoring.reference
    return None if reference is None else reference.index


def _specs(
    request: ScoreRequest, salvaged: SalvagedSession, *, needs_float: bool
) -> list[VariantSpec]:
    """Return the variants to score, with the float model first when it gives the reference."""
    if request.variants:
        specs = list(request.variants)
    elif salvaged.session.info.variants:
        specs = [parse_variant(variant.name) for variant in salvaged.session.info.variants]
    else:
        specs = standard_sweep()
    specs = list(dict.fromkeys(specs))
    if needs_float and not any(spec.is_float for spec in specs):
        float_spec = VariantSpec(model=specs[0].model)
        logger.info(
            "adding %s: its clean majority label is the reference of misclassification",
            float_spec.name,
        )
        specs.insert(0, float_spec)
    return specs


def describe_result(result: ScoreResult) -> list[str]:
    """Return the summary lines printed when a run ends."""
    summary = result.summary
    frames = summary["frames"]
    timing = summary["timing"]
    lines = [
        f"scored {frames['replayed']} of {frames['lines']} frames "
        f"({frames['skipped']} skipped) at {timing['frames_per_s'] or 0:.1f} frames/s",
    ]
    for variant in summary["variants"]:
        patch = variant["summary"]["phases"]["patch"]
        success = patch["success"]
        rate_text = (
            "n/a" if success is None or success["rate"] is None else f"{success['rate']:.0%}"
        )
        lines.append(
            f"  {variant['name']}: patch success {rate_text} over {patch['frames']} frames"
        )
    lines.append(f"wrote {result.json_path} and {result.csv_path}")
    return lines
