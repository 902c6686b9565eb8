"""``patch-harness demo``: options of the end-to-end demo."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from harness.cli.common import (
    StatusLine,
    SubParsers,
    add_build_options,
    add_cache_options,
    add_common,
    build_settings,
    cache_dir,
)

DEMO_LAYERWISE_IMAGES = 32
"""Calibration images per layer for GPTQ in the demo, half the default, so that the 5-, 4-
and 2-bit variants build in about 1.5 min each on 2 cores (measured: 68 to 93 s each)."""


def add_demo_command(commands: SubParsers) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        help="the whole loop with no camera: generate, print, simulate, score, report",
        description="Generate a patch at a small budget on the default scenes, print its "
        "sheet as a PDF, record a simulated session of it with the virtual camera, score the "
        "session with every variant and write the PDF report; then print where each file is. "
        "About 7 minutes on 2 CPU cores the first time (measured 6.8 min; generate takes "
        "2.5 and building the 5-, 4- and 2-bit variants 4 to 5); later runs reuse the cached "
        "variants.",
    )
    demo.add_argument("--target", default="toaster", help="target class (default: %(default)s)")
    demo.add_argument(
        "--steps",
        type=int,
        default=300,
        metavar="N",
        help="optimisation steps of generate, batch 8 (default: %(default)s)",
    )
    demo.add_argument(
        "--variants",
        metavar="SPEC",
        help="comma-separated variants that score the session (default: efficientnet-lite0 "
        "at 32, 8, 5, 4, 2 bits and int8)",
    )
    demo.add_argument(
        "--size-mm",
        type=float,
        default=100.0,
        metavar="MM",
        help="printed side of the patch in mm (default: %(default)s)",
    )
    demo.add_argument(
        "--lang", choices=("en", "ja"), default="en", help="report language (default: en)"
    )
    demo.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders (default: %(default)s)",
    )
    demo.add_argument(
        "--captures",
        type=Path,
        default=Path("captures"),
        metavar="DIR",
        help="folder of the session folders (default: %(default)s)",
    )
    demo.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder of calibration profiles (default: %(default)s)",
    )
    add_build_options(demo)
    demo.set_defaults(layerwise_images=DEMO_LAYERWISE_IMAGES)
    add_cache_options(demo)
    add_common(demo)
    demo.set_defaults(handler=_run_demo)


def _program() -> str:
    """Return ``patch-harness`` when it is on PATH, else the path it was run by (``make demo``
    runs ``.venv/bin/patch-harness`` without activating the environment)."""
    if shutil.which("patch-harness") is not None:
        return "patch-harness"
    if sys.argv[0].endswith("__main__.py"):
        return f"{sys.executable} -m harness"
    return os.path.relpath(sys.argv[0])


def _run_demo(args: argparse.Namespace) -> int:
    from harness.commands.demo import DemoRequest, run_demo
    from harness.models.spec import parse_variants, standard_sweep
    from harness.report.strings import Language

    specs = parse_variants(args.variants) if args.variants else standard_sweep()
    request = DemoRequest(
        target=args.target,
        steps=args.steps,
        variants=tuple(specs),
        size_mm=args.size_mm,
        language=Language(args.lang),
        printables=args.printables,
        captures=args.captures,
        calibration_dir=args.calibration,
        cache_dir=cache_dir(args),
        build=build_settings(args),
        threads=args.threads,
    )
    with StatusLine() as status:
        result = run_demo(request, status)

    print(f"demo finished in {result.seconds / 60:.1f} min; the files:")
    for what, path in result.artifacts:
        print(f"  {what + ':':20s} {path}")
    session = dict(result.artifacts)["simulated session"]
    if args.layerwise_images == DEMO_LAYERWISE_IMAGES:
        print(
            f"score it again with the variants the demo built (cached): {_program()} score "
            f"{session} --layerwise-images {DEMO_LAYERWISE_IMAGES}"
        )
    return 0
