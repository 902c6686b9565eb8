"""Command-line interface: argument parsing only; each command calls one function."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from harness import __version__
from harness.errors import HarnessError, InvalidArgumentError
from harness.logs import setup_logging

logger = logging.getLogger("harness")

EXIT_BAD_INPUT = 2


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--quiet", action="store_true", help="log warnings only, no progress bars")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads for torch and ONNX Runtime (default: all cores)",
    )


def _add_scene_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="folder of scene photos (default: colour photos shipped with scikit-image)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        metavar="CSV",
        help="CSV with columns file,class_index for the images in --images; enables accuracy",
    )


def _add_cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where calibrated variants are kept "
        "(default: $HARNESS_CACHE_DIR or ~/.cache/patch-harness)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``patch-harness`` and all its commands."""
    parser = argparse.ArgumentParser(
        prog="patch-harness",
        description="Test adversarial patches against quantized image classifiers, from "
        "optimisation to paper to camera to numbers.",
    )
    parser.add_argument("--version", action="version", version=f"patch-harness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    models = commands.add_parser(
        "models",
        help="build the quantized variants and measure them on clean scenes",
        description="Build each variant (calibrated or trained variants are cached) and print "
        "bits, method, size, latency at batch 1, top-1 agreement with fp32 and, with --labels, "
        "top-1/top-5 accuracy. Variants under 50 %% agreement are flagged degenerate.",
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
    models.add_argument(
        "--calibration-images",
        type=int,
        default=256,
        metavar="N",
        help="max images for activation ranges and int8 calibration (default: %(default)s)",
    )
    models.add_argument(
        "--layerwise-images",
        type=int,
        default=64,
        metavar="N",
        help="max images for the layer-by-layer methods, GPTQ and bias correction "
        "(default: %(default)s)",
    )
    models.add_argument(
        "--qat-steps",
        type=int,
        default=300,
        metavar="N",
        help="distillation steps of the qat method, batch 16 (default: %(default)s)",
    )
    models.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_scene_options(models)
    _add_cache_options(models)
    _add_common(models)
    models.set_defaults(handler=_run_models)

    return parser


def _run_models(args: argparse.Namespace) -> int:
    from harness.commands.models import ModelsRequest, print_table, run_models
    from harness.models.quantize.qat import DistillationSettings
    from harness.models.spec import parse_variants, standard_sweep
    from harness.models.variants import BuildSettings

    _check_positive("--limit", args.limit)
    _check_positive("--calibration-images", args.calibration_images)
    _check_positive("--layerwise-images", args.layerwise_images)
    _check_positive("--qat-steps", args.qat_steps)
    specs = parse_variants(args.variants) if args.variants else standard_sweep(args.model)
    request = ModelsRequest(
        variants=tuple(specs),
        images=args.images,
        labels=args.labels,
        evaluation_limit=args.limit,
        cache_dir=_cache_dir(args),
        settings=BuildSettings(
            calibration_images=args.calibration_images,
            layerwise_images=args.layerwise_images,
            distillation=DistillationSettings(steps=args.qat_steps),
        ),
        measure_latency=not args.no_latency,
    )
    with _status() as status:
        result = run_models(request, status)

    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_table(result)
    return 0


def _cache_dir(args: argparse.Namespace) -> Path:
    from harness.models.cache import default_cache_dir

    directory: Path = args.cache_dir or default_cache_dir()
    return directory


def _check_positive(option: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise InvalidArgumentError(f"{option} {value} is invalid: expected a positive integer")


class _status:
    """A rich status line on a TTY, log lines otherwise; yields a function taking messages."""

    def __enter__(self) -> Callable[[str], None]:
        from harness.logs import progress_enabled

        if not progress_enabled():
            return lambda message: logger.info("%s", message)
        from rich.console import Console

        self._status = Console(stderr=True).status("starting")
        self._status.__enter__()
        return lambda message: self._status.update(message)

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "_status"):
            self._status.__exit__(None, None, None)


def _configure_threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        if threads < 1:
            raise InvalidArgumentError(f"--threads {threads} is invalid: expected 1 or more")
        torch.set_num_threads(threads)
        os.environ["HARNESS_THREADS"] = str(threads)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        _configure_threads(args.threads)
        return handler(args)
    except HarnessError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
