"""``patch-harness simulate``: options of the virtual camera."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from harness.cli.common import SubParsers, add_common, add_scene_options
from harness.errors import InvalidArgumentError

# Range options: (option, field of ViewRanges, help with units).
RANGE_OPTIONS = (
    ("--yaw", "yaw_deg", "rotation about the vertical axis, degrees"),
    ("--pitch", "pitch_deg", "rotation about the horizontal axis, degrees"),
    ("--roll", "roll_deg", "rotation about the optical axis, degrees"),
    ("--distance", "distance_m", "camera to patch centre, m"),
    ("--offset-x", "offset_x", "patch centre across the frame, fraction of half the width"),
    ("--offset-y", "offset_y", "patch centre down the frame, fraction of half the height"),
    ("--brightness", "brightness", "light added to the sheet, [0, 1] pixel units"),
    ("--contrast", "contrast", "contrast factor of the sheet"),
    ("--gamma", "gamma", "gamma of the sheet"),
    ("--defocus", "defocus_px", "Gaussian defocus sigma, px"),
    ("--noise", "noise", "sensor noise sigma, [0, 1] pixel units"),
    ("--jpeg-quality", "jpeg_quality", "JPEG quality, 1..100"),
)


def add_simulate_command(commands: SubParsers) -> None:
    """Register ``simulate``."""
    from harness.simulate.conditions import ViewRanges

    simulate = commands.add_parser(
        "simulate",
        help="record a session from a virtual camera, with the true pose beside the measured",
        description="Render the printed patch (through the colour profile, with its ArUco "
        "frame at its printed size) into scene images under sampled or scripted pose, "
        "distance, light, blur, noise and JPEG, as a pinhole camera sees it. Writes a session "
        "in the capture format to captures/<session-id>/ (a clean phase, then a patch phase "
        "over the same scenes and views) with the true conditions stored beside the measured "
        "ones, and simulation.json with the pose accuracy. The same camera is a live source: "
        "patch-harness live sim:PATCH_FOLDER.",
    )
    patch = simulate.add_argument_group("patch")
    patch.add_argument("--patch", metavar="PATCH_ID", help="patch folder under --printables")
    patch.add_argument(
        "--image", type=Path, metavar="PNG", help="a patch image made elsewhere (needs --target)"
    )
    patch.add_argument("--target", metavar="CLASS", help="ImageNet class name or index of --image")
    patch.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders (default: %(default)s)",
    )
    patch.add_argument(
        "--size-mm",
        type=float,
        default=100.0,
        metavar="MM",
        help="printed side of the patch in mm (default: %(default)s)",
    )
    patch.add_argument(
        "--color-profile",
        default="default-color",
        metavar="NAME|FILE",
        help="printer+camera colour profile in --calibration (default: %(default)s)",
    )

    camera = simulate.add_argument_group("camera")
    camera.add_argument(
        "--resolution",
        default="1280x720",
        metavar="WxH",
        help="frame size in px (default: %(default)s)",
    )
    camera.add_argument(
        "--fov",
        type=float,
        default=60.0,
        metavar="DEG",
        help="horizontal field of view in degrees without --camera (default: %(default)s)",
    )
    camera.add_argument(
        "--camera",
        metavar="NAME|FILE",
        help="camera profile for the intrinsics, scaled to --resolution (default: assume --fov)",
    )
    camera.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder of calibration profiles (default: %(default)s)",
    )

    frames = simulate.add_argument_group("frames")
    frames.add_argument(
        "--clean-frames",
        type=int,
        default=30,
        metavar="N",
        help="frames of the clean phase (default: %(default)s)",
    )
    frames.add_argument(
        "--patch-frames",
        type=int,
        default=90,
        metavar="N",
        help="frames of the patch phase, each under newly sampled conditions "
        "(default: %(default)s)",
    )
    frames.add_argument(
        "--scenes",
        type=int,
        default=4,
        metavar="N",
        help="scenes shown one after another in each phase (default: %(default)s)",
    )
    frames.add_argument(
        "--fps",
        type=float,
        default=30.0,
        metavar="FPS",
        help="frame rate of the recording, frames per second (default: %(default)s)",
    )
    frames.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")

    ranges = simulate.add_argument_group(
        "conditions", "Each range is MIN,MAX (or one value) and sampled uniformly per frame."
    )
    defaults = ViewRanges()
    for option, name, text in RANGE_OPTIONS:
        span = getattr(defaults, name)
        ranges.add_argument(
            option,
            metavar="MIN,MAX",
            help=f"{text} (default: {span.low:g},{span.high:g})",
        )
    ranges.add_argument(
        "--script",
        type=Path,
        metavar="JSONL",
        help="conditions of the patch frames, one JSON object per line with the keys "
        + ", ".join(item.name for item in fields(defaults))
        + "; replaces the ranges and --patch-frames",
    )

    output = simulate.add_argument_group("output")
    output.add_argument(
        "--captures",
        type=Path,
        default=Path("captures"),
        metavar="DIR",
        help="folder of the session folders (default: %(default)s)",
    )
    output.add_argument(
        "--crop",
        type=float,
        nargs="?",
        const=2.0,
        default=None,
        metavar="SCALE",
        help="record that score classifies a square of SCALE patch extents (px) around the "
        "markers, as live --crop does, instead of the whole frame (SCALE default: 2)",
    )
    output.add_argument(
        "--segment-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="length of one video segment in s (default: %(default)s)",
    )
    add_scene_options(simulate)
    add_common(simulate)
    simulate.set_defaults(handler=_run_simulate)


def parse_resolution(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT`` in px.

    Raises:
        InvalidArgumentError: not two positive integers joined by ``x``.
    """
    width, separator, height = text.lower().partition("x")
    if not separator or not width.strip().isdigit() or not height.strip().isdigit():
        raise InvalidArgumentError(
            f"--resolution {text!r} is invalid: expected WIDTHxHEIGHT in px, e.g. 1280x720"
        )
    return int(width), int(height)


def _run_simulate(args: argparse.Namespace) -> int:
    from harness.commands.simulate import SimulateRequest, run_simulate
    from harness.patch.ranges import parse_span
    from harness.simulate.conditions import ViewRanges, read_script, with_range
    from harness.simulate.run import SimulationSettings

    ranges = ViewRanges()
    for option, name, _ in RANGE_OPTIONS:
        text = getattr(args, name_of(option))
        if text is not None:
            ranges = with_range(ranges, name, parse_span(text, option))
    script = tuple(read_script(args.script)) if args.script is not None else ()

    request = SimulateRequest(
        patch_id=args.patch,
        image=args.image,
        target=args.target,
        printables=args.printables,
        settings=SimulationSettings(
            size=parse_resolution(args.resolution),
            size_mm=args.size_mm,
            clean_frames=args.clean_frames,
            patch_frames=args.patch_frames,
            fps=args.fps,
            scenes=args.scenes,
            seed=args.seed,
            ranges=ranges,
            script=script,
        ),
        color_profile=args.color_profile,
        camera_profile=args.camera,
        fov_deg=args.fov,
        calibration_dir=args.calibration,
        images=args.images,
        labels=args.labels,
        captures=args.captures,
        segment_s=args.segment_seconds,
        crop_scale=args.crop,
    )
    result = run_simulate(request)
    print(f"session {result.folder}: {result.frames} frames")
    print(result.accuracy.summary())
    return 0


def name_of(option: str) -> str:
    """Return the argparse attribute of an option, e.g. ``offset_x`` for ``--offset-x``."""
    return option.removeprefix("--").replace("-", "_")
