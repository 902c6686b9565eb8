"""``patch-harness print`` and ``patch-harness calibrate``: options of the printed sheets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import StatusLine, SubParsers, add_common, check_positive
from harness.errors import InvalidArgumentError

if TYPE_CHECKING:
    from harness.printing.patchfile import PatchTarget


# --- print: patch sheets and calibration sheets ---------------------------------------------


def add_print_command(commands: SubParsers) -> None:
    """Register ``print``."""
    printer = commands.add_parser(
        "print",
        help="render a patch at exact sizes in mm, or a calibration sheet, as a PDF",
        description="Render printables/PATCH_ID/PATCH_ID-SIZEmm.pdf: the patch at each size in "
        "mm framed by four ArUco markers, with cut marks, a 100 mm ruler, the printable palette "
        "and a QR code of the patch id. Print it at 100 % (actual size). --sheet renders the "
        "ChArUco board or the colour chart to printables/sheets/ instead.",
    )
    patch = printer.add_argument_group("patch sheet")
    patch.add_argument(
        "patch_id", nargs="?", metavar="PATCH_ID", help="patch folder under --printables"
    )
    patch.add_argument(
        "--image",
        type=Path,
        metavar="FILE",
        help="print a square patch PNG made elsewhere; it is copied to printables/<id>/ "
        "under an id of its own (a hash of its pixels and target)",
    )
    patch.add_argument(
        "--target",
        metavar="CLASS",
        help="ImageNet class name or index that the --image patch targets (default: untargeted)",
    )
    patch.add_argument(
        "--size",
        default="100",
        metavar="MM[,MM...]",
        help="patch side in mm; several sizes share a page or spread over pages "
        "(default: %(default)s)",
    )

    sheet = printer.add_argument_group("calibration sheet")
    sheet.add_argument(
        "--sheet",
        metavar="NAME",
        help="print a calibration sheet instead: charuco or colour-chart (color-chart)",
    )
    sheet.add_argument(
        "--square-mm",
        type=float,
        default=None,
        metavar="MM",
        help="square side of the ChArUco sheet in mm (default: 25)",
    )

    printer.add_argument(
        "--paper", default="a4", metavar="PAPER", help="a4 or letter (default: %(default)s)"
    )
    printer.add_argument(
        "--printables",
        type=Path,
        default=Path("printables"),
        metavar="DIR",
        help="root of the patch folders and sheets (default: %(default)s)",
    )
    printer.add_argument(
        "--color-profile",
        default="default-color",
        metavar="NAME|FILE",
        help="colour profile whose printable palette is shown: a name in --calibration or a "
        ".json file (default: %(default)s, a generic profile)",
    )
    printer.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder of calibration profiles (default: %(default)s)",
    )
    add_common(printer)
    printer.set_defaults(handler=_run_print)


def _run_print(args: argparse.Namespace) -> int:
    from harness.commands.print_sheet import (
        PatchPrintRequest,
        SheetKind,
        print_calibration_sheet,
        print_patch,
    )
    from harness.printing.charuco import DEFAULT_CHARUCO
    from harness.printing.paper import Paper

    paper = Paper.parse(args.paper)
    if args.sheet is not None:
        if args.patch_id is not None or args.image is not None:
            raise InvalidArgumentError("--sheet prints a calibration sheet: drop PATCH_ID/--image")
        kind = SheetKind.parse(args.sheet)
        board = DEFAULT_CHARUCO
        if args.square_mm is not None:
            if kind is not SheetKind.CHARUCO:
                raise InvalidArgumentError("--square-mm applies to --sheet charuco only")
            board = board.with_square_mm(args.square_mm)
        path = print_calibration_sheet(kind, paper, args.printables, board)
        print(f"wrote {path}")
        return 0

    if args.square_mm is not None:
        raise InvalidArgumentError("--square-mm applies to --sheet charuco only")
    if args.target is not None and args.image is None:
        raise InvalidArgumentError(
            "--target applies to --image only: a patch folder's patch.json names its target"
        )
    request = PatchPrintRequest(
        patch_id=args.patch_id,
        image=args.image,
        target=_patch_target(args.target),
        sizes_mm=_parse_sizes(args.size),
        paper=paper,
        printables=args.printables,
        color_profile=args.color_profile,
        calibration_dir=args.calibration,
    )
    result = print_patch(request)
    pages = f"{result.pages} pages" if result.pages > 1 else "1 page"
    print(f"wrote {result.path} ({pages}); print it at 100 % (actual size)")
    return 0


def _parse_sizes(text: str) -> tuple[float, ...]:
    try:
        sizes = tuple(float(item) for item in text.split(",") if item.strip())
    except ValueError:
        sizes = ()
    if not sizes:
        raise InvalidArgumentError(
            f"--size {text!r} is invalid: expected sides in mm separated by commas, e.g. 50,100"
        )
    return sizes


def _patch_target(text: str | None) -> PatchTarget | None:
    from harness.models.classes import imagenet_classes
    from harness.printing.patchfile import PatchTarget

    if text is None:
        return None
    classes = imagenet_classes()
    index = classes.resolve(text)
    return PatchTarget(index=index, name=classes.name(index))


# --- calibrate: camera intrinsics and colour profile -----------------------------------------


def add_calibrate_command(commands: SubParsers) -> None:
    """Register ``calibrate camera`` and ``calibrate color``."""
    calibrate = commands.add_parser(
        "calibrate",
        help="make a camera profile (ChArUco) or a printer+camera colour profile (chart)",
        description="Write calibration/NAME.json from views of the printed calibration sheets "
        "(patch-harness print --sheet charuco | colour-chart).",
    )
    kinds = calibrate.add_subparsers(dest="kind", metavar="KIND", required=True)

    camera = kinds.add_parser(
        "camera",
        help="intrinsics, distortion and RMS reprojection error (px) from ChArUco views",
        description="Find the ChArUco board in each frame and fit OpenCV's pinhole model: "
        "focal lengths and principal point in px, distortion k1 k2 p1 p2 k3, and the RMS "
        "reprojection error in px.",
    )
    camera.add_argument(
        "source",
        metavar="SOURCE",
        help="video file, image folder, image, camera index (0) or stream URL",
    )
    camera.add_argument(
        "--name",
        default="camera",
        help="profile name: calibration/NAME.json (default: %(default)s)",
    )
    camera.add_argument(
        "--min-views",
        type=int,
        default=10,
        metavar="N",
        help="usable board views needed, each with 8 or more corners (default: %(default)s)",
    )
    camera.add_argument(
        "--max-frames",
        type=int,
        default=200,
        metavar="N",
        help="frames read from a video, spread over its length (default: %(default)s)",
    )
    camera.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="how long a camera or stream is read, in s (default: %(default)s)",
    )
    camera.add_argument(
        "--square-mm",
        type=float,
        default=None,
        metavar="MM",
        help="square side of the printed board as measured, in mm (default: 25)",
    )
    _add_calibration_dir(camera)
    add_common(camera)
    camera.set_defaults(handler=_run_calibrate_camera)

    color = kinds.add_parser(
        "color",
        aliases=["colour"],
        help="printer+camera colour profile and printable palette from photos of the chart",
        description="Read every swatch of the printed colour chart in the photos (sRGB, "
        "median of each swatch's centre) and fit a degree-2 polynomial from digital to "
        "captured colour; the captured swatches form the printable palette.",
    )
    color.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="photos or folders of photos"
    )
    color.add_argument(
        "--name", default="color", help="profile name: calibration/NAME.json (default: %(default)s)"
    )
    _add_calibration_dir(color)
    add_common(color)
    color.set_defaults(handler=_run_calibrate_color)


def _add_calibration_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        metavar="DIR",
        help="folder the profile is written to (default: %(default)s)",
    )


def _run_calibrate_camera(args: argparse.Namespace) -> int:
    from harness.commands.calibrate import CameraCalibrationRequest, calibrate_camera
    from harness.printing.charuco import DEFAULT_CHARUCO

    check_positive("--max-frames", args.max_frames)
    if not args.seconds > 0:
        raise InvalidArgumentError(f"--seconds {args.seconds} is invalid: expected more than 0")
    board = DEFAULT_CHARUCO
    if args.square_mm is not None:
        board = board.with_square_mm(args.square_mm)
    request = CameraCalibrationRequest(
        source=args.source,
        name=args.name,
        calibration_dir=args.calibration,
        board=board,
        min_views=args.min_views,
        max_frames=args.max_frames,
        duration_s=args.seconds,
    )
    with StatusLine() as status:
        profile, path = calibrate_camera(request, status)
    fx, fy = profile.focal_px
    print(
        f"wrote {path}: {profile.views} views, fx {fx:.1f} px, fy {fy:.1f} px, "
        f"RMS reprojection error {profile.rms_px:.3f} px"
    )
    return 0


def _run_calibrate_color(args: argparse.Namespace) -> int:
    from harness.commands.calibrate import ColorCalibrationRequest, calibrate_color

    request = ColorCalibrationRequest(
        images=tuple(args.images), name=args.name, calibration_dir=args.calibration
    )
    profile, path = calibrate_color(request)
    print(
        f"wrote {path}: {len(profile.measured)} swatches, palette of {len(profile.palette_rgb)} "
        f"colours, fit error CIEDE2000 mean {profile.mean_delta_e:.2f}, "
        f"max {profile.max_delta_e:.2f}"
    )
    return 0
