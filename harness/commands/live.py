"""``patch-harness live``: score camera frames with every variant, and record them.

:func:`run_live` checks the inputs that fail fast (limits, target, camera profile,
captures folder, and the source by reading its first frame), builds the variants with
their ONNX Runtime twins and measures their clean agreement, then runs the grabber,
scorer and recorder threads with the dashboard until the run ends.
"""

from __future__ import annotations

import logging
import math
import os
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import cv2
import torch

from harness import __version__
from harness.calibration.camera import CameraProfile
from harness.calibration.color import profile_path
from harness.capture.grabber import Controls, RunLimits
from harness.capture.pose import DEFAULT_FOV_DEG, Intrinsics
from harness.capture.recorder import Recorder, RecorderSettings, check_free_space
from harness.capture.session import (
    ClassRef,
    Phase,
    PrintedPatch,
    ScoringInfo,
    SessionInfo,
    SourceInfo,
    VariantInfo,
    VideoInfo,
    check_writable,
)
from harness.capture.sources import (
    CaptureSettings,
    SourceKind,
    SourceLost,
    SourceSpec,
    open_reader,
    parse_source,
    redact_url,
)
from harness.errors import InvalidArgumentError, SourceError
from harness.live.keys import KeyReader
from harness.live.rates import RollingRates
from harness.live.runner import LiveRunner, RunLabels, RunOutcome, View
from harness.live.scorer import FrameScorer
from harness.models.classes import imagenet_classes
from harness.models.spec import VariantSpec
from harness.models.variants import (
    BuildSettings,
    check_supported,
)
from harness.printing.markers import patch_frame
from harness.printing.patchfile import read_patch
from harness.scoring.variants import ScoringVariant, VariantSettings, prepare_variants

logger = logging.getLogger(__name__)

DEFAULT_SIZE_MM = 100.0
"""Printed patch side assumed without ``--size-mm``, in mm: the default of ``print``."""


@dataclass(frozen=True, kw_only=True)
class LiveRequest:
    """The source, variants, target, recording and run limits of a live run."""

    source: str
    """Camera index, video file, image folder or pattern, or stream URL."""

    capture: CaptureSettings = field(default_factory=CaptureSettings)
    variants: tuple[VariantSpec, ...]
    target: str | None = None
    """ImageNet class name or index; None takes the target of ``patch_id`` or runs untargeted."""

    patch_id: str | None = None
    printables: Path = Path("printables")
    size_mm: float = DEFAULT_SIZE_MM
    """Printed side of the patch, in mm."""

    true_class: str | None = None
    """True class of the clean scene, the reference of misclassification."""

    camera_profile: str | None = None
    """Camera profile name (in ``calibration_dir``) or path; None assumes ``fov_deg``."""

    calibration_dir: Path = Path("calibration")
    fov_deg: float = DEFAULT_FOV_DEG
    """Horizontal field of view assumed without a camera profile, degrees."""

    crop_scale: float | None = None
    """Variants see a square of this many patch extents around the patch; None: whole frame."""

    captures: Path = Path("captures")
    record: bool = True
    """Record from the start; the ``r`` key toggles recording either way."""

    recorder: RecorderSettings = field(default_factory=RecorderSettings)
    limits: RunLimits = field(default_factory=RunLimits)
    window: int = 30
    """Scored frames in the rolling rates."""

    keys: bool = True
    log_every_s: float = 2.0
    """Interval of the plain log lines without a terminal, in s."""

    images: Path | None = None
    labels: Path | None = None
    cache_dir: Path | None = None
    build: BuildSettings = field(default_factory=BuildSettings)
    agreement_images: int = 32
    """Clean evaluation scenes for each variant's agreement with fp32."""

    threads: int | None = None
    """ONNX Runtime threads per variant; None: all cores but one, for the grabber and recorder."""


@dataclass(frozen=True, kw_only=True)
class _Probe:
    spec: SourceSpec
    size: tuple[int, int]
    fps: float


@dataclass(frozen=True, kw_only=True)
class LiveSetup:
    """A checked request with its variants ready: what :func:`run_live` runs."""

    request: LiveRequest
    probe: _Probe
    variants: list[ScoringVariant]
    intrinsics: Intrinsics
    target: int | None
    true_class: int | None
    template: SessionInfo
    """The session description, without its id and start time."""


def prepare_live(request: LiveRequest, status: Callable[[str], None] | None = None) -> LiveSetup:
    """Check the inputs, then build the variants and measure their clean agreement.

    Args:
        request: what to read, score and record.
        status: receives one-line messages while variants are built.

    Raises:
        HarnessError: bad input (the message names the value and the fix): an invalid
            limit, an unknown class, variant or patch, a missing camera profile, a captures
            folder that is not writable, or a source that cannot be opened or read.
    """
    report = status or (lambda message: logger.info("%s", message))

    # Everything cheap is checked before any model is loaded.
    _check_request(request)
    classes = imagenet_classes()
    target = _target(request)
    true_class = None if request.true_class is None else classes.resolve(request.true_class)
    for spec in request.variants:
        check_supported(spec)
    profile = None
    if request.camera_profile is not None:
        profile = CameraProfile.load(profile_path(request.camera_profile, request.calibration_dir))
    check_writable(request.captures)
    check_free_space(request.captures, request.recorder.min_free_bytes)
    probe = _probe_source(request)

    threads = request.threads or max(1, (os.cpu_count() or 1) - 1)
    variants = prepare_variants(
        request.variants,
        VariantSettings(
            cache_dir=request.cache_dir,
            build=request.build,
            images=request.images,
            labels=request.labels,
            agreement_images=request.agreement_images,
            threads=threads,
        ),
        report,
    )
    intrinsics = (
        Intrinsics.from_profile(profile, probe.size, request.camera_profile or "")
        if profile is not None
        else Intrinsics.assumed(probe.size, request.fov_deg)
    )
    if profile is not None and _aspect(profile.image_size) != _aspect(probe.size):
        logger.warning(
            "camera profile %s was made at %dx%d px, frames are %dx%d px: the pose may be off",
            request.camera_profile,
            *profile.image_size,
            *probe.size,
        )

    template = SessionInfo(
        session_id="",
        started="",
        source=_source_info(probe, request.capture),
        camera=intrinsics.info(),
        patch=PrintedPatch(patch_id=request.patch_id, size_mm=request.size_mm),
        target=None if target is None else ClassRef(index=target, name=classes.name(target)),
        variants=tuple(
            VariantInfo(
                name=live.name,
                agreement=live.agreement,
                agreement_images=live.agreement_images,
                degenerate=live.degenerate,
            )
            for live in variants
        ),
        scoring=ScoringInfo(
            crop_scale=request.crop_scale,
            window=request.window,
            reference=None
            if true_class is None
            else ClassRef(index=true_class, name=classes.name(true_class)),
        ),
        video=VideoInfo(codec=request.recorder.fourcc, segment_s=request.recorder.segment_s),
        software=_software_versions(),
    )
    return LiveSetup(
        request=request,
        probe=probe,
        variants=variants,
        intrinsics=intrinsics,
        target=target,
        true_class=true_class,
        template=template,
    )


def run_live(setup: LiveSetup, view: View | None = None) -> RunOutcome:
    """Score and record until the source ends, a limit is reached, or the user quits.

    Args:
        setup: the checked request and its variants, from :func:`prepare_live`.
        view: the live view; the default is the dashboard on a terminal and plain log lines
            otherwise.

    Raises:
        SourceError: the source cannot be opened again after :func:`prepare_live` read it.
    """
    request = setup.request
    classes = imagenet_classes()
    with _thread_budget():
        scorer = FrameScorer(
            setup.variants,
            patch_frame(request.size_mm),
            setup.intrinsics,
            crop_scale=request.crop_scale,
            target=setup.target,
        )
        names = [live.name for live in setup.variants]
        reference = next(
            (live.name for live in setup.variants if live.variant.spec.is_float), names[0]
        )
        rates = RollingRates(
            names,
            window=request.window,
            target=setup.target,
            true_class=setup.true_class,
            reference_variant=reference,
        )
        reader = open_reader(setup.probe.spec, request.capture)
        # Frame times count from here; the grabber starts a few milliseconds later.
        template = replace(setup.template, started=datetime.now().astimezone().isoformat())
        recorder = Recorder(request.captures, template, request.recorder, fps=setup.probe.fps)
        target = setup.target
        runner = LiveRunner(
            reader=reader,
            scorer=scorer,
            rates=rates,
            recorder=recorder,
            controls=Controls(phase=Phase.CLEAN, recording=request.record),
            limits=request.limits,
            labels=RunLabels(
                source=setup.probe.spec.description,
                frame_size=setup.probe.size,
                camera=_camera_label(setup.intrinsics),
                target=None if target is None else f"{classes.name(target)} ({target})",
            ),
        )
        return runner.run(
            view if view is not None else _default_view(request.log_every_s),
            KeyReader(enabled=request.keys),
        )


def _check_request(request: LiveRequest) -> None:
    if not request.variants:
        raise InvalidArgumentError(
            "--variants is empty: give at least one, e.g. efficientnet-lite0@32"
        )

    limits = request.limits
    if limits.max_frames is not None and limits.max_frames < 1:
        raise InvalidArgumentError(
            f"--max-frames {limits.max_frames} is invalid: expected a positive integer"
        )
    if limits.duration_s is not None and not limits.duration_s > 0:
        raise InvalidArgumentError(
            f"--duration {limits.duration_s} s is invalid: expected more than 0"
        )

    if not request.size_mm > 0:
        raise InvalidArgumentError(f"--size-mm {request.size_mm} is invalid: expected more than 0")
    if not 0 < request.fov_deg < 180:
        raise InvalidArgumentError(f"--fov {request.fov_deg} is invalid: expected 0..180 degrees")
    if request.crop_scale is not None and not request.crop_scale >= 1:
        raise InvalidArgumentError(
            f"--crop {request.crop_scale} is invalid: expected 1 or more patch extents"
        )
    if request.window < 1 or request.agreement_images < 1:
        raise InvalidArgumentError("--window and --agreement-images must be positive integers")
    if not request.recorder.segment_s > 0:
        raise InvalidArgumentError(
            f"--segment-seconds {request.recorder.segment_s} is invalid: expected more than 0"
        )

    capture = request.capture
    if (capture.width is not None and capture.width < 1) or (
        capture.height is not None and capture.height < 1
    ):
        raise InvalidArgumentError(
            "--resolution is invalid: expected WIDTHxHEIGHT in px, e.g. 1280x720"
        )
    if capture.fps is not None and not capture.fps > 0:
        raise InvalidArgumentError(f"--fps {capture.fps} is invalid: expected more than 0")
    if request.threads is not None and request.threads < 1:
        raise InvalidArgumentError(f"--threads {request.threads} is invalid: expected 1 or more")


def _target(request: LiveRequest) -> int | None:
    """Return the target class: from ``--target``, or from the patch folder's patch.json."""
    classes = imagenet_classes()
    target = None if request.target is None else classes.resolve(request.target)
    if request.patch_id is None:
        return target
    patch = read_patch(request.printables, request.patch_id)
    patch_target = None if patch.target is None else patch.target.index
    if target is not None and patch_target is not None and target != patch_target:
        raise InvalidArgumentError(
            f"--target {request.target!r} differs from patch {request.patch_id}'s target "
            f"{patch.target_text}: drop --target"
        )
    return target if target is not None else patch_target


def _probe_source(request: LiveRequest) -> _Probe:
    """Open the source and read one frame, so that a bad source fails before any model loads."""
    spec = parse_source(request.source)
    try:
        with open_reader(spec, request.capture) as reader:
            frame = reader.read()
            fps = reader.fps
    except SourceLost as error:
        raise SourceError(f"cannot read {spec.description}: {error}") from None
    if frame is None:
        raise SourceError(f"{spec.description} has no frames")

    size = (int(frame.shape[1]), int(frame.shape[0]))
    capture = request.capture
    requested = (capture.width, capture.height)
    if spec.kind is SourceKind.CAMERA and None not in requested and requested != size:
        logger.warning(
            "camera %s delivers %dx%d px instead of the requested %dx%d px",
            spec.location,
            *size,
            *requested,
        )
    return _Probe(spec=spec, size=size, fps=fps)


@contextmanager
def _thread_budget() -> Iterator[None]:
    """Keep OpenCV and torch to one thread each while the live threads run.

    The grabber, the recorder and inference each run in their own thread, and ONNX Runtime
    has its own thread count per variant; OpenCV's and torch's pools on top would make them
    fight over the cores.
    """
    opencv_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(opencv_threads)
        torch.set_num_threads(torch_threads)


def _default_view(log_every_s: float) -> View:
    from rich.console import Console

    from harness.live.dashboard import LogView, RichView
    from harness.logs import progress_enabled

    if progress_enabled():
        return RichView(Console(stderr=True))
    return LogView(log_every_s)


def _source_info(probe: _Probe, capture: CaptureSettings) -> SourceInfo:
    return SourceInfo(
        kind=probe.spec.kind.value,
        location=redact_url(probe.spec.location),
        width=probe.size[0],
        height=probe.size[1],
        fps=probe.fps,
        requested_width=capture.width,
        requested_height=capture.height,
        requested_fps=capture.fps,
    )


def _camera_label(intrinsics: Intrinsics) -> str:
    if intrinsics.profile is not None:
        return f"camera profile {intrinsics.profile}"
    return f"assumed {intrinsics.assumed_fov_deg:g}° horizontal FOV; --camera for a profile"


def _aspect(size: tuple[int, int]) -> float:
    return round(size[0] / size[1], 2)


def _software_versions() -> dict[str, str]:
    import numpy
    import onnxruntime

    return {
        "patch-harness": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
    }


def describe_outcome(outcome: RunOutcome, captures: Path) -> list[str]:
    """Return the summary lines printed when a run ends."""
    lines = []
    session = outcome.session
    if session is not None and session.counts is not None:
        counts = session.counts
        segments = "1 segment" if counts.segments == 1 else f"{counts.segments} segments"
        lines.append(
            f"session {captures / session.session_id}: recorded {counts.recorded_frames} of "
            f"{counts.source_frames} frames in {segments} ({counts.dropped_frames} dropped), "
            f"{counts.scored_frames} scored live"
        )
    else:
        lines.append("nothing was recorded")
    lines.append(
        f"read {outcome.frames_read} frames in {outcome.elapsed_s:.1f} s "
        f"({outcome.capture_fps:.1f} fps), scored {outcome.scored_frames} "
        f"({outcome.scored_fps:.1f} fps)"
    )
    lines.append(f"ended: {outcome.end.reason.value} ({outcome.end.message})")
    if outcome.recording_error is not None:
        lines.append(f"recording stopped early: {outcome.recording_error}")
    if any(math.isnan(value) for value in outcome.median_ms.values()):
        lines.append("no frame was scored")
    return lines
