"""``patch-harness calibrate camera|color``: camera intrinsics and printer+camera colour."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from harness.calibration.camera import CameraProfile
from harness.calibration.chart_reader import ChartReading, combine_readings, read_chart
from harness.calibration.charuco_views import MIN_CORNERS, BoardDetector, BoardView, calibrate
from harness.calibration.color import MIN_SWATCHES, ColorProfile, fit_color_profile
from harness.capture.sampling import sample_source
from harness.capture.sources import IMAGE_SUFFIXES, Frame
from harness.errors import CalibrationError, DataError, InvalidArgumentError
from harness.logs import track
from harness.printing import color_chart
from harness.printing.charuco import DEFAULT_CHARUCO, CharucoSpec

logger = logging.getLogger(__name__)

HIGH_RMS_PX = 1.0
"""RMS reprojection error above which a calibration is reported as poor, in px."""

_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, kw_only=True)
class CameraCalibrationRequest:
    """Source of the board views, board, view counts and profile name."""

    source: str
    """Video file, image folder, image, camera index or stream URL."""

    name: str = "camera"
    """Profile name: it is written to ``calibration_dir/<name>.json``."""

    calibration_dir: Path = Path("calibration")
    board: CharucoSpec = DEFAULT_CHARUCO
    min_views: int = 10
    """Usable views needed before calibrating."""

    max_views: int = 40
    """Most views passed to OpenCV, spread over all usable ones; more only cost time."""

    max_frames: int = 200
    """Most frames read from a video, spread evenly over its length."""

    duration_s: float = 60.0
    """Time a live source is read for, in s; reading stops early at ``max_views`` views."""


@dataclass(frozen=True, kw_only=True)
class ColorCalibrationRequest:
    """Photos of the printed colour chart and where the profile goes."""

    images: tuple[Path, ...]
    """Image files or folders of images."""

    name: str = "color"
    calibration_dir: Path = Path("calibration")


def profile_file(name: str, calibration_dir: Path) -> Path:
    """Return ``calibration_dir/<name>.json`` for a new profile.

    Raises:
        InvalidArgumentError: the name is not a plain file name, or is reserved.
    """
    if not _NAME_PATTERN.fullmatch(name):
        raise InvalidArgumentError(
            f"--name {name!r} is invalid: expected letters, digits, '.', '_' or '-'"
        )
    if name.startswith("default-"):
        raise InvalidArgumentError(
            f"--name {name!r} is reserved for the shipped profiles: choose another name"
        )
    return calibration_dir / f"{name}.json"


def calibrate_camera(
    request: CameraCalibrationRequest, status: Callable[[str], None]
) -> tuple[CameraProfile, Path]:
    """Find ChArUco views in the source, calibrate, and write the camera profile.

    Raises:
        InvalidArgumentError: a bad name or count.
        DataError: the source cannot be read, or its frames differ in size.
        CalibrationError: fewer usable views than ``min_views``.
    """
    path = profile_file(request.name, request.calibration_dir)
    if request.min_views < 3 or request.max_views < request.min_views:
        raise InvalidArgumentError(
            f"--min-views {request.min_views} is invalid: expected 3..{request.max_views}"
        )
    source = sample_source(
        request.source, max_frames=request.max_frames, duration_s=request.duration_s
    )

    views, image_size, frames_read = _collect_views(request, source.frames(), source.count, status)
    if image_size is None or len(views) < request.min_views:
        raise CalibrationError(
            f"found {len(views)} usable views of the ChArUco board in {frames_read} frames of "
            f"{source.description}; need at least {request.min_views} (each with "
            f"{MIN_CORNERS} or more corners): show the whole board from more angles"
        )

    picks = np.linspace(0, len(views) - 1, min(len(views), request.max_views))
    chosen = [views[index] for index in picks.round().astype(int)]
    status(f"calibrating on {len(chosen)} views")
    fit = calibrate(chosen, image_size)
    logger.info(
        "%d usable views in %d frames (need %d); calibrated on %d: fx %.1f px, fy %.1f px, "
        "RMS reprojection error %.3f px",
        len(views),
        frames_read,
        request.min_views,
        len(chosen),
        fit.camera_matrix[0, 0],
        fit.camera_matrix[1, 1],
        fit.rms_px,
    )
    if fit.rms_px > HIGH_RMS_PX:
        logger.warning(
            "RMS reprojection error %.2f px is high: check that the board lies flat and the "
            "frames are sharp",
            fit.rms_px,
        )

    profile = CameraProfile(
        name=request.name,
        camera_matrix=fit.camera_matrix,
        distortion=fit.distortion,
        image_size=image_size,
        rms_px=fit.rms_px,
        views=len(chosen),
        board=request.board.to_json(),
        source=source.description,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    profile.save(path)
    return profile, path


def _collect_views(
    request: CameraCalibrationRequest,
    frames: Iterator[Frame],
    count: int | None,
    status: Callable[[str], None],
) -> tuple[list[BoardView], tuple[int, int] | None, int]:
    detector = BoardDetector(request.board)
    views: list[BoardView] = []
    image_size: tuple[int, int] | None = None
    frames_read = 0
    if count is not None:
        frames = track(frames, total=count, description="looking for the ChArUco board")

    for frame in frames:
        frames_read += 1
        size = (frame.shape[1], frame.shape[0])
        if image_size is not None and size != image_size:
            raise DataError(
                f"frame {frames_read} of the source is {size[0]}x{size[1]} px but earlier "
                f"frames are {image_size[0]}x{image_size[1]} px: calibrate one resolution at a time"
            )
        image_size = size
        view = detector.detect(frame)
        if view is not None:
            views.append(view)
        if count is None:
            status(f"{len(views)} usable views of {request.min_views} needed, {frames_read} frames")
            if len(views) >= request.max_views:
                break
    return views, image_size, frames_read


def calibrate_color(request: ColorCalibrationRequest) -> tuple[ColorProfile, Path]:
    """Read the chart's swatches in every photo, fit the colour mapping, write the profile.

    Raises:
        InvalidArgumentError: a bad name.
        DataError: no image given, or one is missing or unreadable.
        CalibrationError: fewer than ``MIN_SWATCHES`` swatches were read.
    """
    path = profile_file(request.name, request.calibration_dir)
    files = _image_files(request.images)
    readings: list[ChartReading] = []
    for file in track(files, total=len(files), description="reading the colour chart"):
        reading = read_chart(_read_rgb(file))
        logger.info(
            "%s: %d chart markers, %d swatches", file, reading.markers_found, reading.swatches_found
        )
        readings.append(reading)

    measured = combine_readings(readings)
    seen = ~np.isnan(measured[:, 0])
    total = len(seen)
    if seen.sum() < MIN_SWATCHES:
        with_markers = sum(reading.markers_found >= 2 for reading in readings)
        raise CalibrationError(
            f"found {int(seen.sum())} of {total} colour chart swatches in {len(files)} images "
            f"(chart markers located in {with_markers}); need at least {MIN_SWATCHES}: "
            "photograph the whole chart with all four corner markers in view"
        )

    profile = fit_color_profile(
        color_chart.swatch_colors()[seen],
        measured[seen],
        name=request.name,
        description=f"Measured from {len(files)} photos of the colour chart, "
        f"{int(seen.sum())} of {total} swatches read.",
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        sources=tuple(str(file) for file in files),
    )
    logger.info(
        "%d of %d swatches; fit error CIEDE2000 mean %.2f, max %.2f",
        int(seen.sum()),
        total,
        profile.mean_delta_e,
        profile.max_delta_e,
    )
    profile.save(path)
    return profile, path


def _image_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"image {path} not found")
    if not files:
        raise DataError(
            f"no images of the colour chart in {', '.join(str(p) for p in paths)}: "
            f"expected files ending in {', '.join(IMAGE_SUFFIXES)}"
        )
    return files


def _read_rgb(path: Path) -> NDArray[np.uint8]:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"cannot read image {path}: {error}") from None
