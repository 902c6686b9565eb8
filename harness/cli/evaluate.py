"""``patch-harness evaluate``: options of the digital protocol."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import (
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
    from harness.commands.evaluate import PatchSource


def add_evaluate_command(commands: SubParsers) -> None:
    """Register ``evaluate``."""
    evaluate = commands.add_parser(
        "evaluate",
        help="the digital protocol: ASR mean ± std per variant, transfer matrix, feature maps",
        description="Paste each patch into every held-out scene at random positions and "
        "scales, repeated --repeats times with different seeds, and classify the same frames "
        "with every variant. Writes evaluation.json, asr.csv, asr-runs.csv, transfer.csv, "
        "transfer-std.csv, asr.png, transfer.png and features-*.png (mean activation of "
        "chosen layers, clean versus patched, per variant) to --output. Rows of the transfer "
        "matrix are the patches (named by the variants they were made on), columns the "
        "variants attacked. Scenes of the target class are left out.",
    )
    patches = evaluate.add_argument_group("patches")
    patches.add_argument(
        "--patch",
        action="append",
        default=[],
        metavar="PATCH_ID|DIR",
        help="patch folder under --printables, or the path of a patch folder; repeat for more "
        "rows of the transfer matrix",
    )
    patches.add_argument(
        "--image",
        action="append",
        default=[],
        type=Path,
        metavar="PNG",
        help="a patch image made elsewhere; each needs its own --target, in the same order",
    )
    patches.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="CLASS",
        help="ImageNet class name or index of the --image at the same position",
    )
    patches.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders (default: %(default)s)",
    )

    protocol = evaluate.add_argument_group("protocol")
    protocol.add_argument(
        "--variants",
        metavar="SPEC",
        help="comma-separated MODEL@BITS[:METHOD][+fl8] items, the columns of the transfer "
        "matrix (default: the model at 32, 8, 5, 4, 2 bits and int8)",
    )
    protocol.add_argument(
        "--model",
        default="efficientnet-lite0",
        help="model for the default sweep (default: %(default)s)",
    )
    protocol.add_argument(
        "--repeats",
        type=int,
        default=10,
        metavar="N",
        help="random placements per scene, each with its own seed (default: %(default)s)",
    )
    protocol.add_argument("--seed", type=int, default=0, help="seed of the first repeat")
    protocol.add_argument(
        "--area",
        default="0.06,0.16",
        metavar="MIN,MAX",
        help="patch area as a fraction of the image area (default: %(default)s)",
    )
    protocol.add_argument(
        "--rotation",
        default="0,0",
        metavar="MIN,MAX",
        help="in-plane rotation of the patch, degrees (default: %(default)s)",
    )
    protocol.add_argument(
        "--color-profile",
        metavar="NAME|FILE",
        help="pass the patch through this printer+camera colour profile in --calibration "
        "(default: digital colour)",
    )
    protocol.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder of calibration profiles (default: %(default)s)",
    )
    protocol.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="use the first N held-out scenes only (default: all)",
    )
    protocol.add_argument(
        "--batch-size",
        type=int,
        default=32,
        metavar="N",
        help="frames per model call (default: %(default)s)",
    )

    features = evaluate.add_argument_group("feature maps")
    features.add_argument(
        "--layers",
        metavar="NAMES",
        help="comma-separated module names, e.g. net._blocks.3 (default: 4 layers spread over "
        "the depth)",
    )
    features.add_argument(
        "--feature-images",
        type=int,
        default=16,
        metavar="N",
        help="scenes averaged in each feature map (default: %(default)s)",
    )
    evaluate.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="folder of the results (default: evaluations/<time>)",
    )
    add_build_options(evaluate)
    add_scene_options(evaluate)
    add_cache_options(evaluate)
    add_common(evaluate)
    evaluate.set_defaults(handler=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from harness.commands.evaluate import EvaluateRequest, run_evaluate
    from harness.evaluate.protocol import ProtocolSettings, placement_ranges
    from harness.models.spec import parse_variants, standard_sweep
    from harness.patch.ranges import parse_span

    check_positive("--repeats", args.repeats)
    check_positive("--limit", args.limit)
    check_positive("--batch-size", args.batch_size)
    check_positive("--feature-images", args.feature_images)
    patches = _patch_sources(args)
    specs = parse_variants(args.variants) if args.variants else standard_sweep(args.model)
    ranges = placement_ranges(
        area=parse_span(args.area, "--area"), roll_deg=parse_span(args.rotation, "--rotation")
    )
    layers = tuple(name.strip() for name in (args.layers or "").split(",") if name.strip())

    request = EvaluateRequest(
        patches=patches,
        variants=tuple(specs),
        settings=ProtocolSettings(
            repeats=args.repeats, seed=args.seed, ranges=ranges, batch_size=args.batch_size
        ),
        printables=args.printables,
        images=args.images,
        labels=args.labels,
        limit=args.limit,
        output=args.output,
        color_profile=args.color_profile,
        calibration_dir=args.calibration,
        cache_dir=cache_dir(args),
        build=build_settings(args),
        layers=layers,
        feature_images=args.feature_images,
        threads=args.threads,
    )
    result = run_evaluate(request)

    for summary in result.variants:
        flag = "  DEGENERATE" if summary.degenerate else ""
        accuracy = "" if summary.accuracy is None else f", top-1 {100 * summary.accuracy:.1f} %"
        print(
            f"{summary.name}: agreement with fp32 {100 * summary.agreement:.1f} %{accuracy}{flag}"
        )
    for row in result.rows:
        print(f"patch {row.label} -> {row.target_name}: ASR mean ± std over repeats")
        for name, runs in row.success.items():
            print(
                f"  {name:32s} {100 * runs.mean:5.1f} ± {100 * runs.std:4.1f} %   "
                f"(clean {100 * row.clean_target_rate[name]:.1f} %, {runs.scenes} scenes)"
            )
    print(f"results in {result.folder}:")
    for path in result.files:
        print(f"  {path}")
    return 0


def _patch_sources(args: argparse.Namespace) -> tuple[PatchSource, ...]:
    from harness.commands.evaluate import PatchSource

    images: list[Path] = args.image
    targets: list[str] = args.target
    if len(targets) > len(images):
        raise InvalidArgumentError(
            f"--target {targets[len(images)]!r} has no --image: a patch folder's patch.json "
            "names its target, so --target goes with --image only"
        )
    sources: list[PatchSource] = [PatchSource(patch_id=patch_id) for patch_id in args.patch]
    for index, image in enumerate(images):
        target = targets[index] if index < len(targets) else None
        sources.append(PatchSource(image=image, target=target))
    return tuple(sources)
