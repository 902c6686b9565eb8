"""``patch-harness generate``: options of the patch optimisation."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import (
    StatusLine,
    SubParsers,
    add_build_options,
    add_cache_options,
    add_common,
    add_scene_options,
    build_settings,
    cache_dir,
    check_positive,
)
from harness.errors import InvalidArgumentError

if TYPE_CHECKING:
    from harness.patch.optimize import StepRecord
    from harness.patch.ranges import EotRanges

logger = logging.getLogger("harness")

# EOT range options: (flag, field of EotRanges, help with units).
_RANGE_OPTIONS = (
    ("--yaw", "yaw_deg", "rotation about the patch's vertical axis, degrees"),
    ("--pitch", "pitch_deg", "rotation about the patch's horizontal axis, degrees"),
    ("--roll", "roll_deg", "in-plane rotation, degrees"),
    ("--area", "area", "patch area as a fraction of the image area"),
    ("--position", "position", "patch centre as a fraction of the free space (0..1)"),
    ("--brightness", "brightness", "light added to the patch, [0, 1] pixel units"),
    ("--contrast", "contrast", "contrast factor of the patch"),
    ("--gamma", "gamma", "gamma of the patch"),
    ("--defocus", "defocus_px", "Gaussian defocus sigma of the frame, px"),
    ("--motion", "motion_px", "motion blur length of the frame, px"),
    ("--noise", "noise", "sensor noise standard deviation, [0, 1] pixel units"),
    ("--jpeg", "jpeg_quality", "JPEG quality of the frame, 1..100 (100 turns JPEG off)"),
)


def add_generate_command(commands: SubParsers) -> None:
    """Register ``generate``."""
    from harness.patch.ranges import EotRanges

    defaults = EotRanges()
    generate = commands.add_parser(
        "generate",
        help="optimise a printable patch by expectation over transformation",
        description="Optimise a patch that turns what the camera sees into --target on the "
        "given variants, under sampled pose, light, printer colour, blur, noise and JPEG. "
        "Writes printables/<patch-id>/ with patch.png, patch.json, loss.png and preview.png.",
    )
    objective = generate.add_mutually_exclusive_group(required=True)
    objective.add_argument(
        "--target", metavar="CLASS", help="ImageNet class name or index, e.g. toaster"
    )
    objective.add_argument(
        "--untargeted",
        action="store_true",
        help="push each scene away from its clean top-1 class instead",
    )

    generate.add_argument(
        "--variants",
        default="efficientnet-lite0@32",
        metavar="SPEC",
        help="variants to optimise against, e.g. efficientnet-lite0@32,8,4 (default: %(default)s)",
    )
    generate.add_argument(
        "--variant-weights",
        metavar="W[,W...]",
        help="loss weight of each variant (default: 1 each)",
    )
    generate.add_argument(
        "--evaluate",
        metavar="SPEC",
        help="variants to measure held-out success on, e.g. efficientnet-lite0@32,8,5,4,2,int8 "
        "(default: the optimised variants)",
    )
    generate.add_argument(
        "--shape", default="square", choices=["square", "circle", "rectangle"], help="patch outline"
    )
    generate.add_argument(
        "--aspect", type=float, default=1.0, metavar="W/H", help="width/height of a rectangle"
    )
    generate.add_argument(
        "--resolution",
        type=int,
        default=64,
        metavar="PX",
        help="patch side while optimising, px (default: %(default)s)",
    )
    generate.add_argument(
        "--print-resolution",
        type=int,
        default=1024,
        metavar="PX",
        help="side of patch.png, px, upsampled bicubically (default: %(default)s)",
    )

    optimiser = generate.add_argument_group("optimiser")
    optimiser.add_argument(
        "--steps", type=int, default=500, help="optimiser steps (default: %(default)s)"
    )
    optimiser.add_argument(
        "--batch-size", type=int, default=8, help="scenes per step (default: %(default)s)"
    )
    optimiser.add_argument(
        "--lr",
        type=float,
        default=0.02,
        help="Adam step size, [0, 1] pixel units (default: %(default)s)",
    )
    optimiser.add_argument(
        "--nps-weight",
        type=float,
        default=0.05,
        help="weight of the non-printability score (default: %(default)s)",
    )
    optimiser.add_argument(
        "--tv-weight",
        type=float,
        default=0.5,
        help="weight of the total variation (default: %(default)s)",
    )
    optimiser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    optimiser.add_argument(
        "--checkpoint-every",
        type=int,
        default=50,
        metavar="N",
        help="steps between checkpoints (default: %(default)s)",
    )
    optimiser.add_argument(
        "--resume", action="store_true", help="continue the run from its last checkpoint"
    )
    optimiser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when present")

    eot = generate.add_argument_group("expectation over transformation (MIN,MAX or one value)")
    eot.add_argument(
        "--eot",
        type=Path,
        metavar="TOML",
        help="ranges from a TOML file ([eot] table); flags override it",
    )
    for flag, name, text in _RANGE_OPTIONS:
        span = getattr(defaults, name)
        eot.add_argument(
            flag, metavar="MIN,MAX", help=f"{text} (default: {span.low:g},{span.high:g})"
        )
    eot.add_argument(
        "--fov",
        type=float,
        metavar="DEG",
        help=f"camera field of view, degrees (default: {defaults.fov_deg:g})",
    )
    eot.add_argument(
        "--color-profile",
        default="default-color",
        metavar="NAME|FILE",
        help="printer+camera colour profile: a name in --calibration or a .json file "
        "(default: %(default)s)",
    )
    eot.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="profile folder (default: %(default)s)",
    )

    add_build_options(generate)
    generate.add_argument(
        "--evaluation-repeats",
        type=int,
        default=4,
        metavar="N",
        help="renders per held-out scene (default: %(default)s)",
    )
    generate.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="output root (default: %(default)s)",
    )
    add_scene_options(generate)
    add_cache_options(generate)
    add_common(generate)
    generate.set_defaults(handler=_run_generate)


def _ranges(args: argparse.Namespace) -> EotRanges:
    from harness.patch.ranges import EotRanges, load_ranges, parse_span, with_span

    ranges = load_ranges(args.eot) if args.eot else EotRanges()
    for flag, name, _ in _RANGE_OPTIONS:
        text = getattr(args, flag.lstrip("-").replace("-", "_"))
        if text is not None:
            ranges = with_span(ranges, name, parse_span(text, flag))
    if args.fov is not None:
        ranges = replace(ranges, fov_deg=args.fov)
    return ranges


def _run_generate(args: argparse.Namespace) -> int:
    from harness.commands.generate import GenerateRequest, run_generate
    from harness.models.spec import parse_variants
    from harness.patch.optimize import OptimiseSettings
    from harness.patch.shapes import PatchShape

    for option in ("steps", "batch_size", "resolution", "print_resolution", "evaluation_repeats"):
        check_positive("--" + option.replace("_", "-"), getattr(args, option))
    if args.lr <= 0:
        raise InvalidArgumentError(f"--lr {args.lr:g} is invalid: expected a step size > 0")
    if args.nps_weight < 0 or args.tv_weight < 0:
        raise InvalidArgumentError(
            f"--nps-weight {args.nps_weight:g} / --tv-weight {args.tv_weight:g} is invalid: "
            "expected weights of 0 or more"
        )

    variants = tuple(parse_variants(args.variants))
    weights = _weights(args.variant_weights, len(variants))
    settings = OptimiseSettings(
        target=None,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        nps_weight=args.nps_weight,
        tv_weight=args.tv_weight,
        seed=args.seed,
        checkpoint_every=max(0, args.checkpoint_every),
        ranges=_ranges(args),
    )
    request = GenerateRequest(
        target=None if args.untargeted else args.target,
        variants=variants,
        weights=weights,
        shape=PatchShape(args.shape),
        aspect=args.aspect,
        resolution=args.resolution,
        print_resolution=args.print_resolution,
        settings=settings,
        color_profile=args.color_profile,
        calibration_dir=args.calibration,
        images=args.images,
        labels=args.labels,
        printables=args.printables,
        cache_dir=cache_dir(args),
        build=build_settings(args),
        evaluate=tuple(parse_variants(args.evaluate)) if args.evaluate else (),
        evaluation_repeats=args.evaluation_repeats,
        resume=args.resume,
        device=args.device,
    )

    with StatusLine() as status, _StepProgress(args.steps) as on_step:
        result = run_generate(request, status, on_step)

    print(f"wrote {result.folder}/ (patch id {result.patch_id})")
    for name, rates in result.success.items():
        print(
            f"  {name}: held-out success {rates.patch:.1%} with the patch, "
            f"{rates.control:.1%} with a random patch ({rates.frames} frames)"
        )
    return 0


def _weights(text: str | None, count: int) -> tuple[float, ...]:
    if text is None:
        return (1.0,) * count
    try:
        return tuple(float(item) for item in text.split(","))
    except ValueError as error:
        raise InvalidArgumentError(
            f"--variant-weights {text!r} is invalid: expected numbers separated by commas"
        ) from error


class _StepProgress:
    """A rich progress bar with loss and running success, or a log line every 10 % of steps."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __enter__(self) -> Callable[[StepRecord], None]:
        from harness.logs import progress_enabled

        if not progress_enabled():
            return self._log
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("optimising"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}  success {task.fields[success]:.0%}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._progress.__enter__()
        self._task = self._progress.add_task("optimising", total=self.steps, loss=0.0, success=0.0)
        self._window: list[float] = []
        return self._advance

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "_progress"):
            self._progress.__exit__(None, None, None)

    def _advance(self, record: StepRecord) -> None:
        self._window = [*self._window, record.success][-20:]
        running = sum(self._window) / len(self._window)
        self._progress.update(
            self._task, completed=record.step + 1, loss=record.loss, success=running
        )

    def _log(self, record: StepRecord) -> None:
        every = max(1, self.steps // 10)
        if (record.step + 1) % every == 0 or record.step + 1 == self.steps:
            logger.info(
                "step %d/%d: loss %.3f, batch success %.0f%%",
                record.step + 1,
                self.steps,
                record.loss,
                100 * record.success,
            )
