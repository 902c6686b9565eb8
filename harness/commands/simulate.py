"""``patch-harness simulate``: record a session from the virtual camera, with its truth.

The session has the capture format that ``live`` writes, so ``score`` and ``report`` read
it unchanged. Each line of ``frames.jsonl`` carries the conditions measured from the
ArUco markers on the rendered pixels and, beside them, the true conditions of the render.
``simulation.json`` in the session folder stores the settings and the pose accuracy.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2

from harness.calibration.camera import CameraProfile
from harness.calibration.color import load_color_profile, profile_path
from harness.capture.grabber import CapturedFrame
from harness.capture.pose import DEFAULT_FOV_DEG, Intrinsics
from harness.capture.recorder import Recorder, RecorderSettings
from harness.capture.session import (
    ClassRef,
    EndReason,
    Phase,
    PrintedPatch,
    ScoringInfo,
    SessionInfo,
    SourceInfo,
    check_writable,
)
from harness.errors import InvalidArgumentError, SessionError
from harness.live.inputs import input_region
from harness.logs import track
from harness.models.classes import imagenet_classes
from harness.patch.artifacts import package_versions, write_json
from harness.printing.patchfile import (
    PatchInfo,
    PatchTarget,
    import_patch_image,
    load_patch_rgb,
    read_patch,
)
from harness.scenes import load_scenes
from harness.simulate.accuracy import PoseAccuracy, pose_accuracy
from harness.simulate.conditions import check_view
from harness.simulate.run import Simulation, SimulationSettings, check_fits

logger = logging.getLogger(__name__)

SIMULATION_FILE = "simulation.json"


@dataclass(frozen=True, kw_only=True)
class SimulateRequest:
    """The patch, camera, conditions and output of a simulated recording."""

    patch_id: str | None = None
    """Folder name under ``printables``; None when ``image`` is given."""

    image: Path | None = None
    """A patch PNG made elsewhere; it needs ``target``."""

    target: str | None = None
    """ImageNet class name or index of a patch PNG."""

    printables: Path = Path("printables")
    settings: SimulationSettings = field(default_factory=SimulationSettings)
    color_profile: str = "default-color"
    camera_profile: str | None = None
    """Camera profile name (in ``calibration_dir``) or path; None assumes ``fov_deg``."""

    fov_deg: float = DEFAULT_FOV_DEG
    """Horizontal field of view without a camera profile, degrees."""

    calibration_dir: Path = Path("calibration")
    images: Path | None = None
    labels: Path | None = None
    captures: Path = Path("captures")
    segment_s: float = 1.0
    """Length of one video segment, s."""

    crop_scale: float | None = None
    """Recorded as the session's scoring crop: ``score`` then classifies a square of this
    many patch extents around the markers; None: the whole frame."""


@dataclass(frozen=True)
class SimulateResult:
    """The session folder, its frame count and the pose accuracy."""

    folder: Path
    frames: int
    accuracy: PoseAccuracy


def run_simulate(request: SimulateRequest) -> SimulateResult:
    """Render the clean and patch phases and record them as a session.

    Raises:
        HarnessError: bad input (the message names the value and the fix): a missing
            patch, a patch PNG without a target, an unknown class, an impossible condition
            range, an empty scene folder, a missing profile or an unwritable captures folder.
    """
    # Everything cheap is checked before any frame is rendered.
    settings = request.settings
    _check_settings(request)
    patch = _patch(request)
    profile = load_color_profile(request.color_profile, request.calibration_dir)
    intrinsics = _intrinsics(request)
    check_fits(settings, intrinsics)
    scenes = load_scenes(request.images, request.labels)
    check_writable(request.captures)

    simulation = Simulation(load_patch_rgb(patch), settings, scenes, intrinsics, profile)
    template = _template(request, patch, intrinsics)
    recorder = Recorder(
        request.captures,
        template,
        RecorderSettings(segment_s=request.segment_s),
        fps=settings.fps,
    )
    recorder.start()

    pairs = []
    frames = simulation.frames()
    for index, frame in enumerate(
        track(frames, total=simulation.frame_count, description="simulate")
    ):
        captured = CapturedFrame(
            index=index,
            time_s=index / settings.fps,
            image=frame.image,
            phase=frame.phase,
            tags=(),
            recording=True,
        )
        if not recorder.submit(captured):
            if recorder.status().error is not None:
                break
            continue  # The recorder fell behind and counted the frame as dropped.
        conditions = simulation.measure(frame.image)
        region = None
        if frame.phase is Phase.CLEAN and request.crop_scale is not None:
            # The clean frame is classified where its paired patch frame will be, so that
            # the clean reference and the patch phase look at the same part of the scene.
            corners = simulation.patch_corners(frame.view)
            region = input_region(settings.size, corners, request.crop_scale)
        recorder.frame_described(index, conditions, frame.truth, region)
        pairs.append((conditions, frame.truth))

    status = recorder.status()
    reason = EndReason.SOURCE_ENDED if status.error is None else EndReason.DISK_FULL
    info = recorder.finish(reason, "the simulation rendered every frame", len(pairs))
    if info is None or status.folder is None:
        raise SessionError(f"no frame was recorded in {request.captures}")
    if status.error is not None:
        raise SessionError(f"recording the simulation failed: {status.error}")

    accuracy = pose_accuracy(pairs)
    logger.info("%s", accuracy.summary())
    folder = status.folder
    write_json(folder / SIMULATION_FILE, _description(request, simulation, accuracy))
    return SimulateResult(folder=folder, frames=len(pairs), accuracy=accuracy)


def _check_settings(request: SimulateRequest) -> None:
    settings = request.settings
    if not settings.size_mm > 0:
        raise InvalidArgumentError(f"--size-mm {settings.size_mm} is invalid: expected more than 0")
    if settings.clean_frames < 0:
        raise InvalidArgumentError(
            f"--clean-frames {settings.clean_frames} is invalid: expected 0 or more"
        )
    if settings.patch_frames < 1:
        raise InvalidArgumentError(
            f"--patch-frames {settings.patch_frames} is invalid: expected 1 or more"
        )
    if settings.scenes < 1:
        raise InvalidArgumentError(f"--scenes {settings.scenes} is invalid: expected 1 or more")
    if not settings.fps > 0:
        raise InvalidArgumentError(f"--fps {settings.fps} is invalid: expected more than 0")
    width, height = settings.size
    if width < 64 or height < 64:
        raise InvalidArgumentError(
            f"--resolution {width}x{height} is invalid: expected at least 64x64 px"
        )
    if not 0 < request.fov_deg < 180:
        raise InvalidArgumentError(f"--fov {request.fov_deg} is invalid: expected 0..180 degrees")
    if request.crop_scale is not None and not request.crop_scale >= 1:
        raise InvalidArgumentError(
            f"--crop {request.crop_scale} is invalid: expected 1 or more patch extents"
        )
    if not request.segment_s > 0:
        raise InvalidArgumentError(
            f"--segment-seconds {request.segment_s} is invalid: expected more than 0"
        )
    settings.ranges.validate()
    for number, view in enumerate(settings.script, start=1):
        check_view(view, f"condition script line {number}")


def _patch(request: SimulateRequest) -> PatchInfo:
    if (request.patch_id is None) == (request.image is None):
        raise InvalidArgumentError(
            "give the patch either as --patch PATCH_ID (a folder under --printables) or as "
            "--image FILE with --target CLASS"
        )
    if request.patch_id is not None:
        if request.target is not None:
            raise InvalidArgumentError(
                "--target applies to --image only: a patch folder's patch.json names its target"
            )
        return read_patch(request.printables, request.patch_id)
    assert request.image is not None
    if request.target is None:
        raise InvalidArgumentError(
            f"patch image {str(request.image)!r} has no target: add --target CLASS (an "
            "ImageNet class name or index)"
        )
    classes = imagenet_classes()
    index = classes.resolve(request.target)
    target = PatchTarget(index=index, name=classes.name(index))
    return import_patch_image(request.image, target, request.printables)


def _intrinsics(request: SimulateRequest) -> Intrinsics:
    if request.camera_profile is None:
        return Intrinsics.assumed(request.settings.size, request.fov_deg)
    profile = CameraProfile.load(profile_path(request.camera_profile, request.calibration_dir))
    return Intrinsics.from_profile(profile, request.settings.size, request.camera_profile)


def _template(request: SimulateRequest, patch: PatchInfo, intrinsics: Intrinsics) -> SessionInfo:
    settings = request.settings
    width, height = settings.size
    target = patch.target
    return SessionInfo(
        session_id="",
        started=datetime.now().astimezone().isoformat(),
        source=SourceInfo(
            kind="sim",
            location=f"sim:{patch.folder}",
            width=width,
            height=height,
            fps=settings.fps,
        ),
        camera=intrinsics.info(),
        patch=PrintedPatch(patch_id=patch.patch_id, size_mm=settings.size_mm),
        target=None if target is None else ClassRef(index=target.index, name=target.name),
        variants=(),
        scoring=ScoringInfo(crop_scale=request.crop_scale, window=0),
        software={**package_versions(), "opencv": cv2.__version__},
    )


def _description(
    request: SimulateRequest, simulation: Simulation, accuracy: PoseAccuracy
) -> dict[str, object]:
    settings = request.settings
    return {
        "kind": "patch-harness/simulation",
        "version": 1,
        "seed": settings.seed,
        "size_px": list(settings.size),
        "size_mm": settings.size_mm,
        "clean_frames": settings.clean_frames,
        "patch_frames": len(simulation.views),
        "scenes": [scene.name for scene in simulation.scenes.scenes],
        "scripted": bool(settings.script),
        "ranges": None if settings.script else settings.ranges.to_json(),
        "color_profile": request.color_profile,
        "sheet_px_per_mm": simulation.sheet.px_per_mm,
        "pose_accuracy": {
            "frames": accuracy.frames,
            "measured": accuracy.measured,
            "median_angle_deg": _finite(accuracy.median_angle_deg),
            "median_distance_error": _finite(accuracy.median_distance_error),
            "max_angle_deg": _finite(accuracy.max_angle_deg),
            "max_distance_error": _finite(accuracy.max_distance_error),
        },
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
