"""``patch-harness models``: options of the variant table."""

from __future__ import annotations

import argparse
import json

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


def add_models_command(commands: SubParsers) -> None:
    """Register ``models``."""
    models = commands.add_parser(
        "models",
        help="build the quantized variants and measure them on clean scenes",
        description="Build each variant (calibrated or trained variants are cached) and print "
        "bits, method, size, latency at batch 1, top-1 agreement with fp32 and, with --labels, "
        "top-1/top-5 accuracy. Variants under 50 % agreement are flagged degenerate.",
    )
    models.add_argument(
        "--variants",
        default=None,
        metavar="SPEC",
        help="comma-separated MODEL@BITS[:METHOD][+fl8] items, e.g. "
        "efficientnet-lite0@32,8,4:qat,int8 (default: the model at 32, 8, 5, 4, 2 bits and int8). "
        "BITS: 32, 2..16, wBaB or int8; METHOD: ptq[-minmax|-percentile|-mse], bc, gptq, qat",
    )
    models.add_argument(
        "--model",
        default="efficientnet-lite0",
        help="model for the default sweep: a built-in name, a .pt/.onnx file or "
        "package.module:factory (default: %(default)s)",
    )
    models.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="measure on at most N evaluation images",
    )
    add_build_options(models)
    models.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_scene_options(models)
    add_cache_options(models)
    add_common(models)
    models.set_defaults(handler=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from harness.commands.models import ModelsRequest, print_table, run_models
    from harness.models.spec import parse_variants, standard_sweep

    check_positive("--limit", args.limit)
    specs = parse_variants(args.variants) if args.variants else standard_sweep(args.model)
    request = ModelsRequest(
        variants=tuple(specs),
        images=args.images,
        labels=args.labels,
        evaluation_limit=args.limit,
        cache_dir=cache_dir(args),
        settings=build_settings(args),
        measure_latency=not args.no_latency,
    )
    with StatusLine() as status:
        result = run_models(request, status)

    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_table(result)
    return 0
