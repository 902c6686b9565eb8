"""``patch-harness live``: options of live scoring and recording."""

from __future__ import annotations

import argparse
from pathlib import Path

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

EXIT_RUN_FAILED = 1
"""Exit code when the source was lost, scoring failed or recording stopped early."""

EXIT_INTERRUPTED = 130


def add_live_command(commands: SubParsers) -> None:
    """Register ``live``."""
    live = commands.add_parser(
        "live",
        help="score a camera with every variant side by side and record the session",
        description="Read a camera, video, image sequence or stream; score the newest frame "
        "with every variant while recording every frame to captures/<session-id>/ "
        "(session.json, frames.jsonl, video segments of about 1 s). Keys: space toggles the "
        "phase clean/patch, 0-9 set a tag, r starts or stops recording, q quits. --threads "
        "sets the ONNX Runtime threads of each variant; for live its default is all cores "
        "but one, left to the grabber and the recorder. Exit code 1 when the source was "
        "lost or recording stopped early, 2 for bad input.",
    )
    live.add_argument(
        "source",
        nargs="?",
        default="0",
        metavar="SOURCE",
        help="camera index, video file, image folder, image pattern such as frames/%%05d.png, "
        "stream URL (http://PHONE:8080/video for MJPEG, rtsp://...), or the virtual camera "
        "sim:PATCH_FOLDER[,size_mm=MM,clean=N,frames=N,seed=N,fov=DEG] (default: camera 0)",
    )
    _add_source_options(live)
    _add_variant_options(live)
    _add_target_options(live)
    _add_pose_options(live)
    _add_recording_options(live)
    add_build_options(live)
    add_scene_options(live)
    add_cache_options(live)
    add_common(live)
    live.set_defaults(handler=_run_live)


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("source")
    group.add_argument(
        "--resolution",
        metavar="WxH",
        help="frame size in px, e.g. 1280x720: requested from a camera, other sources are "
        "resized to it (default: the source's own)",
    )
    group.add_argument(
        "--fps",
        type=float,
        metavar="FPS",
        help="frames per second: requested from a camera, the playback rate of a file "
        "(default: the camera's or file's own; 30 for image sequences)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="a camera or stream that sends no frame for S seconds is lost (default: %(default)s)",
    )


def _add_variant_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("variants and scoring")
    group.add_argument(
        "--variants",
        metavar="SPEC",
        help="comma-separated MODEL@BITS[:METHOD][+fl8] items (default: the model at 32, 8, "
        "5, 4, 2 bits and int8)",
    )
    group.add_argument(
        "--model",
        default="efficientnet-lite0",
        help="model for the default sweep (default: %(default)s)",
    )
    group.add_argument(
        "--crop",
        type=float,
        nargs="?",
        const=2.0,
        default=None,
        metavar="SCALE",
        help="score a square of SCALE patch extents (px) around the markers instead of the "
        "whole frame; the whole frame when no marker is seen (SCALE default: 2). Clean "
        "frames then show a wider view than patch frames, so give score --true-class for a "
        "fair misclassification rate",
    )
    group.add_argument(
        "--window",
        type=int,
        default=30,
        metavar="N",
        help="scored frames in the rolling success and misclassification rates "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--agreement-images",
        type=int,
        default=32,
        metavar="N",
        help="clean scenes for each variant's agreement with fp32 and the degenerate flag "
        "(default: %(default)s)",
    )


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target and patch")
    group.add_argument("--target", metavar="CLASS", help="ImageNet class name or index")
    group.add_argument(
        "--patch",
        metavar="PATCH_ID",
        help="the printed patch: its folder under --printables gives the target",
    )
    group.add_argument(
        "--size-mm",
        type=float,
        default=100.0,
        metavar="MM",
        help="printed side of the patch in mm; sets the marker geometry and the distance "
        "(default: %(default)s, the print default)",
    )
    group.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders (default: %(default)s)",
    )
    group.add_argument(
        "--true-class",
        metavar="CLASS",
        help="true class of the clean scene, for misclassification (default: the fp32 "
        "majority label of the clean phase)",
    )


def _add_pose_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pose and distance")
    group.add_argument(
        "--camera",
        metavar="NAME|FILE",
        help="camera profile for pose and distance: a name in --calibration or a .json file "
        "(default: assume --fov)",
    )
    group.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder of calibration profiles (default: %(default)s)",
    )
    group.add_argument(
        "--fov",
        type=float,
        default=60.0,
        metavar="DEG",
        help="horizontal field of view in degrees assumed without --camera (default: %(default)s)",
    )


def _add_recording_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recording and run length")
    group.add_argument(
        "--captures",
        type=Path,
        default=Path("captures"),
        metavar="DIR",
        help="folder of the session folders (default: %(default)s)",
    )
    group.add_argument(
        "--no-record", action="store_true", help="start with recording off (r turns it on)"
    )
    group.add_argument(
        "--segment-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="length of one video segment in s; a kill loses at most the open one "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--min-free-mb",
        type=float,
        default=200.0,
        metavar="MB",
        help="stop recording when the disk has less free space, in MB (default: %(default)s)",
    )
    group.add_argument("--duration", type=float, metavar="S", help="end the run after S seconds")
    group.add_argument(
        "--max-frames", type=int, metavar="N", help="end the run after N source frames"
    )
    group.add_argument(
        "--no-keys",
        action="store_true",
        help="do not read keys (for pipes and scripts); the phase stays clean",
    )
    group.add_argument(
        "--log-every",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds between plain log lines when the output is not a terminal "
        "(default: %(default)s)",
    )


def _run_live(args: argparse.Namespace) -> int:
    from harness.capture.grabber import RunLimits
    from harness.capture.recorder import RecorderSettings
    from harness.capture.session import EndReason
    from harness.capture.sources import CaptureSettings
    from harness.commands.live import LiveRequest, describe_outcome, prepare_live, run_live
    from harness.models.spec import parse_variants, standard_sweep

    check_positive("--window", args.window)
    check_positive("--agreement-images", args.agreement_images)
    check_positive("--max-frames", args.max_frames)
    for option, value in (
        ("--timeout", args.timeout),
        ("--log-every", args.log_every),
        ("--min-free-mb", args.min_free_mb),
    ):
        if not value > 0:
            raise InvalidArgumentError(f"{option} {value} is invalid: expected more than 0")
    width, height = _resolution(args.resolution)
    specs = parse_variants(args.variants) if args.variants else standard_sweep(args.model)

    request = LiveRequest(
        source=args.source,
        capture=CaptureSettings(
            width=width, height=height, fps=args.fps, stall_timeout_s=args.timeout
        ),
        variants=tuple(specs),
        target=args.target,
        patch_id=args.patch,
        printables=args.printables,
        size_mm=args.size_mm,
        true_class=args.true_class,
        camera_profile=args.camera,
        calibration_dir=args.calibration,
        fov_deg=args.fov,
        crop_scale=args.crop,
        captures=args.captures,
        record=not args.no_record,
        recorder=RecorderSettings(
            segment_s=args.segment_seconds, min_free_bytes=int(args.min_free_mb * 1e6)
        ),
        limits=RunLimits(max_frames=args.max_frames, duration_s=args.duration),
        window=args.window,
        keys=not args.no_keys,
        log_every_s=args.log_every,
        images=args.images,
        labels=args.labels,
        cache_dir=cache_dir(args),
        build=build_settings(args),
        agreement_images=args.agreement_images,
        threads=args.threads,
    )
    # The status line must end before the dashboard starts: rich shows one live display.
    with StatusLine() as status:
        setup = prepare_live(request, status)
    outcome = run_live(setup)

    for line in describe_outcome(outcome, args.captures):
        print(line)
    if outcome.end.reason is EndReason.INTERRUPTED:
        return EXIT_INTERRUPTED
    failed = (EndReason.SOURCE_LOST, EndReason.ERROR)
    if outcome.end.reason in failed or outcome.recording_error is not None:
        return EXIT_RUN_FAILED
    return 0


def _resolution(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    width, separator, height = text.lower().partition("x")
    if not separator or not width.strip().isdigit() or not height.strip().isdigit():
        raise InvalidArgumentError(
            f"--resolution {text!r} is invalid: expected WIDTHxHEIGHT in px, e.g. 1280x720"
        )
    return int(width), int(height)
