"""``patch-harness demo``: the whole loop on the embedded default scenes, with no camera.

generate (a small budget against fp32) → print (a 100 mm PDF sheet) → simulate (a clean
and a patch phase from the virtual camera) → score (every variant) → report (PDF). Each
step is the command of the same name, run in this process with small settings, so the
files land where the commands put them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.commands.generate import GenerateRequest, run_generate
from harness.commands.print_sheet import PatchPrintRequest, print_patch
from harness.commands.report import ReportRequest, run_report
from harness.commands.score import ScoreRequest, run_score
from harness.commands.simulate import SimulateRequest, run_simulate
from harness.errors import InvalidArgumentError
from harness.models.spec import VariantSpec, parse_variant
from harness.models.variants import BuildSettings
from harness.patch.optimize import OptimiseSettings, StepRecord
from harness.patch.ranges import EotRanges, Span
from harness.report.strings import Language
from harness.scoring.variants import VariantSettings
from harness.simulate.run import SimulationSettings

logger = logging.getLogger(__name__)

DEMO_RANGES = EotRanges(
    yaw_deg=Span(-40.0, 40.0),
    pitch_deg=Span(-40.0, 40.0),
    roll_deg=Span(-30.0, 30.0),
    area=Span(0.15, 0.35),
    position=Span(0.3, 0.7),
)
"""Generate's pose ranges for the demo, matched to the views that score classifies.

The angles are the simulator's default ranges. Score classifies a square of two patch
extents around the sheet, so the patch fills about a sixth to a third of the model input,
near its centre. Light, blur, noise and JPEG keep generate's defaults, which cover the
simulator's.
"""


@dataclass(frozen=True, kw_only=True)
class DemoRequest:
    """Budgets and folders of the demo."""

    target: str = "toaster"
    """ImageNet class the patch targets."""

    steps: int = 300
    """Optimisation steps of generate (batch 8)."""

    learning_rate: float = 0.03
    """Adam step size of generate, in [0, 1] pixel units."""

    ranges: EotRanges = DEMO_RANGES
    """Expectation-over-transformation ranges of generate."""

    variants: tuple[VariantSpec, ...]
    """Variants that score the simulated session."""

    size_mm: float = 100.0
    """Printed side of the patch, mm."""

    clean_frames: int = 30
    patch_frames: int = 90
    crop_scale: float | None = 2.0
    """Score a square of this many patch extents around the markers, as ``live --crop``
    does; None scores the whole frame, where a 100 mm patch is small."""

    language: Language = Language.EN
    printables: Path = Path("printables")
    captures: Path = Path("captures")
    calibration_dir: Path = Path("calibration")
    cache_dir: Path | None = None
    build: BuildSettings = field(default_factory=BuildSettings)
    threads: int | None = None


@dataclass(frozen=True)
class DemoResult:
    """Every artifact of the demo, in the order the steps wrote them."""

    artifacts: list[tuple[str, Path]]
    """(what, where) pairs."""

    seconds: float
    """Wall time of the whole demo, in s."""


def run_demo(request: DemoRequest, status: Callable[[str], None] | None = None) -> DemoResult:
    """Run generate, print, simulate, score and report; return where each artifact is.

    Raises:
        HarnessError: bad input in any step; the message names the step's value and fix.
    """
    report = status or (lambda message: logger.info("%s", message))
    if request.steps < 1:
        raise InvalidArgumentError(f"--steps {request.steps} is invalid: expected 1 or more")
    if not request.variants:
        raise InvalidArgumentError("--variants is empty: give at least one")
    started = time.perf_counter()
    artifacts: list[tuple[str, Path]] = []

    report(f"1/5 generate: a patch for {request.target!r} in {request.steps} steps")
    generated = run_generate(
        GenerateRequest(
            target=request.target,
            variants=(parse_variant("32"),),
            weights=(1.0,),
            resolution=48,
            print_resolution=512,
            settings=OptimiseSettings(
                target=None,
                steps=request.steps,
                batch_size=8,
                learning_rate=request.learning_rate,
                ranges=request.ranges,
            ),
            calibration_dir=request.calibration_dir,
            printables=request.printables,
            cache_dir=request.cache_dir,
            build=request.build,
            evaluation_repeats=1,
        ),
        status=report,
        on_step=_step_reporter(request.steps, report),
    )
    folder = generated.folder
    for name, rates in generated.success.items():
        report(
            f"1/5 generate: {name} held-out success {rates.patch:.0%} with the patch, "
            f"{rates.control:.0%} with a random one"
        )
    artifacts += [("patch", folder / "patch.png"), ("patch description", folder / "patch.json")]

    report(f"2/5 print: a {request.size_mm:g} mm sheet of patch {generated.patch_id}")
    printed = print_patch(
        PatchPrintRequest(
            patch_id=generated.patch_id,
            sizes_mm=(request.size_mm,),
            printables=request.printables,
            calibration_dir=request.calibration_dir,
        )
    )
    artifacts.append(("printable sheet", printed.path))

    report("3/5 simulate: a clean and a patch phase from the virtual camera")
    simulated = run_simulate(
        SimulateRequest(
            patch_id=generated.patch_id,
            printables=request.printables,
            settings=SimulationSettings(
                size_mm=request.size_mm,
                clean_frames=request.clean_frames,
                patch_frames=request.patch_frames,
                # One scene, so that the fp32 majority label of the clean phase is a fair
                # reference for misclassification in the patch phase.
                scenes=1,
            ),
            calibration_dir=request.calibration_dir,
            captures=request.captures,
            crop_scale=request.crop_scale,
        )
    )
    artifacts.append(("simulated session", simulated.folder))

    report(f"4/5 score: {len(request.variants)} variants")
    scored = run_score(
        ScoreRequest(
            session=simulated.folder,
            variants=request.variants,
            printables=request.printables,
            variant_settings=VariantSettings(
                cache_dir=request.cache_dir, build=request.build, threads=request.threads
            ),
        ),
        status=report,
    )
    artifacts += [("scores (JSON)", scored.json_path), ("scores (CSV)", scored.csv_path)]

    report("5/5 report")
    pdf = run_report(ReportRequest(sessions=(simulated.folder,), language=request.language))
    artifacts.append(("report", pdf))
    return DemoResult(artifacts=artifacts, seconds=time.perf_counter() - started)


def _step_reporter(steps: int, report: Callable[[str], None]) -> Callable[[StepRecord], None]:
    """Return a step callback that reports every 10 % of the optimisation steps."""
    every = max(1, steps // 10)

    def on_step(record: StepRecord) -> None:
        done = record.step + 1
        if done % every == 0 or done == steps:
            report(f"1/5 generate: step {done}/{steps}, loss {record.loss:.3f}")

    return on_step
