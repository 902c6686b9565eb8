"""``patch-harness score``: options of offline scoring."""

from __future__ import annotations

import argparse
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

if TYPE_CHECKING:
    from harness.scoring.bins import Condition

BIN_OPTIONS = {
    "yaw_deg": ("--yaw-bins", "DEG", "yaw bin edges in degrees", "-30,0,30"),
    "pitch_deg": ("--pitch-bins", "DEG", "pitch bin edges in degrees", "-30,0,30"),
    "distance_m": ("--distance-bins", "M", "distance bin edges in m", "0,0.5,1,inf"),
    "luminance": ("--luminance-bins", "L", "mean frame luma bin edges in [0, 1]", "0,0.3,0.7,1"),
    "patch_area_px": ("--area-bins", "PX", "patch area bin edges in px", "0,10000,inf"),
}
"""Bin-edge option per binned ``Conditions`` field: flag, metavar, help and an example."""


def add_score_command(commands: SubParsers) -> None:
    """Register ``score``."""
    from harness.scoring.bins import DEFAULT_EDGES

    score = commands.add_parser(
        "score",
        help="replay a recorded session through any set of variants",
        description="Replay the video of SESSION (a folder under captures/) through the "
        "variants in batches and write SESSION/scores/RUN.csv (per frame and variant) and "
        "SESSION/scores/RUN.json: per variant, phase and condition bin, the targeted success "
        "rate, the misclassification rate against the clean reference, the patch-minus-clean "
        "difference, counts and Wilson 95 % intervals. Frames not scored live have their "
        "conditions measured again from the markers. Damaged or older sessions are scored "
        "for what is readable, and the JSON file lists what was skipped.",
    )
    score.add_argument("session", type=Path, metavar="SESSION", help="session folder")
    group = score.add_argument_group("variants and labels")
    group.add_argument(
        "--variants",
        metavar="SPEC",
        help="comma-separated MODEL@BITS[:METHOD][+fl8] items (default: the variants live at "
        "record time, else the model at 32, 8, 5, 4, 2 bits and int8)",
    )
    group.add_argument(
        "--target", metavar="CLASS", help="ImageNet class name or index (default: the session's)"
    )
    group.add_argument(
        "--true-class",
        metavar="CLASS",
        help="true class of the clean scene, the reference of misclassification (default: the "
        "session's, else the fp32 majority label of the clean phase)",
    )
    group.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders; the patch's patch.json tells white-box from "
        "transfer variants (default: %(default)s)",
    )
    bins = score.add_argument_group("condition bins (comma-separated, increasing edges)")
    for name, (flag, metavar, text, _) in BIN_OPTIONS.items():
        defaults = ",".join(f"{edge:g}" for edge in DEFAULT_EDGES[_condition(name)])
        bins.add_argument(
            flag, metavar=metavar, help=f"{text} (default: {defaults})".replace("%", "%%")
        )
    output = score.add_argument_group("output and speed")
    output.add_argument(
        "--run",
        metavar="NAME",
        help="name of the output files in SESSION/scores (default: the local time, "
        "YYYYMMDD-HHMMSS)",
    )
    output.add_argument(
        "--batch-size",
        type=int,
        default=32,
        metavar="N",
        help="frames per inference batch (default: %(default)s)",
    )
    output.add_argument(
        "--agreement-images",
        type=int,
        default=32,
        metavar="N",
        help="clean scenes for each variant's agreement with fp32 and the degenerate flag "
        "(default: %(default)s)",
    )
    add_build_options(score)
    add_scene_options(score)
    add_cache_options(score)
    add_common(score)
    score.set_defaults(handler=_run_score)


def _condition(name: str) -> Condition:
    from harness.scoring.bins import Condition

    return Condition(name)


def _run_score(args: argparse.Namespace) -> int:
    from harness.commands.score import (
        ScoreRequest,
        describe_result,
        prepare_score,
        score_prepared,
    )
    from harness.models.spec import parse_variants
    from harness.scoring.bins import DEFAULT_EDGES, BinEdges, Condition, parse_edges
    from harness.scoring.variants import VariantSettings

    check_positive("--batch-size", args.batch_size)
    check_positive("--agreement-images", args.agreement_images)
    edges = dict(DEFAULT_EDGES)
    for name, (flag, _, _, example) in BIN_OPTIONS.items():
        text = getattr(args, flag.lstrip("-").replace("-", "_"))
        if text is not None:
            edges[Condition(name)] = parse_edges(flag, text, example=example)

    request = ScoreRequest(
        session=args.session,
        variants=tuple(parse_variants(args.variants)) if args.variants else (),
        target=args.target,
        true_class=args.true_class,
        printables=args.printables,
        edges=BinEdges(edges),
        run=args.run,
        batch_size=args.batch_size,
        variant_settings=VariantSettings(
            cache_dir=cache_dir(args),
            build=build_settings(args),
            images=args.images,
            labels=args.labels,
            agreement_images=args.agreement_images,
            threads=args.threads,
        ),
    )
    # The status line must end before the progress bar starts, or they draw over each other.
    with StatusLine() as status:
        setup = prepare_score(request, status)
    result = score_prepared(setup)
    for line in describe_result(result):
        print(line)
    return 0
