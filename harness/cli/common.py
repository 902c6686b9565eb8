"""Options and helpers shared by the commands of the CLI."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import InvalidArgumentError

if TYPE_CHECKING:
    from harness.models.variants import BuildSettings

logger = logging.getLogger("harness")

# The sub-parser collection of a parser; argparse makes it generic for type checkers only.
if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubParsers = argparse._SubParsersAction


def add_common(parser: argparse.ArgumentParser) -> None:
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


def add_scene_options(parser: argparse.ArgumentParser) -> None:
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


def add_cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where calibrated variants are kept "
        "(default: $HARNESS_CACHE_DIR or ~/.cache/patch-harness)",
    )


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """Add the image budgets of variant building (calibration, GPTQ, distillation)."""
    group = parser.add_argument_group("variant building")
    group.add_argument(
        "--calibration-images",
        type=int,
        default=256,
        metavar="N",
        help="max images for activation ranges and int8 calibration (default: %(default)s)",
    )
    group.add_argument(
        "--layerwise-images",
        type=int,
        default=64,
        metavar="N",
        help="max images for the layer-by-layer methods, GPTQ and bias correction "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--qat-steps",
        type=int,
        default=300,
        metavar="N",
        help="distillation steps of the qat method, batch 16 (default: %(default)s)",
    )


def build_settings(args: argparse.Namespace) -> BuildSettings:
    """Return the variant-building settings of the options added by :func:`add_build_options`."""
    from harness.models.quantize.qat import DistillationSettings
    from harness.models.variants import BuildSettings

    check_positive("--calibration-images", args.calibration_images)
    check_positive("--layerwise-images", args.layerwise_images)
    check_positive("--qat-steps", args.qat_steps)
    return BuildSettings(
        calibration_images=args.calibration_images,
        layerwise_images=args.layerwise_images,
        distillation=DistillationSettings(steps=args.qat_steps),
    )


def cache_dir(args: argparse.Namespace) -> Path:
    from harness.models.cache import default_cache_dir

    directory: Path = args.cache_dir or default_cache_dir()
    return directory


def check_positive(option: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise InvalidArgumentError(f"{option} {value} is invalid: expected a positive integer")


class StatusLine:
    """A rich status line on a TTY, log lines otherwise; yields a function taking messages."""

    _status: Any

    def __enter__(self) -> Callable[[str], None]:
        from harness.logs import progress_enabled

        if not progress_enabled():
            return lambda message: logger.info("%s", message)
        from rich.console import Console

        self.StatusLine = Console(stderr=True).status("starting")
        self.StatusLine.__enter__()
        return lambda message: self.StatusLine.update(message)

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "StatusLine"):
            self.StatusLine.__exit__(None, None, None)
