"""Replaying a session's video through variants, in batches.

A decoding thread reads the segments, measures the conditions of frames that were not
scored live (markers, pose, luminance, as live measures them) and cuts each frame's model
input. The calling thread stacks the inputs into batches of ``batch_size`` and runs every
variant on each batch. OpenCV decoding, PIL resizing and ONNX Runtime all release the GIL,
so the two threads overlap on two cores.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from harness.capture.pose import DEFAULT_FOV_DEG, Intrinsics, estimate_pose, measure_conditions
from harness.capture.session import CameraInfo, Conditions, FrameRecord, Session
from harness.live.inputs import Region, input_region, model_input
from harness.models.preprocess import Preprocessing
from harness.models.variants import Variant
from harness.printing.markers import MarkerFrame, detect_markers, patch_frame
from harness.scoring.frames import SkipTally, decode_frames
from harness.scoring.outcomes import ConditionsSource, FrameOutcome, VariantOutput

_QUEUE_BATCHES = 2
"""Batches the decoding thread may prepare ahead of inference."""


@dataclass(frozen=True, kw_only=True)
class ReplaySettings:
    """Settings that turn frames into model inputs."""

    crop_scale: float | None
    """Side of the input square as a multiple of the patch's extent in px; None: whole frame.
    Frames scored live keep the region they were scored on."""

    target: int | None
    """Target class whose probability is kept; None for an untargeted session."""

    patch_size_mm: float
    """Printed patch side, in mm; sets the marker geometry for the pose."""

    batch_size: int = 32


@dataclass(frozen=True)
class _Prepared:
    record: FrameRecord
    conditions: Conditions
    source: ConditionsSource
    inputs: dict[Preprocessing, torch.Tensor]
    """(3, S, S) model input per preprocessing."""


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def replay(
    session: Session,
    variants: Sequence[Variant],
    settings: ReplaySettings,
    tally: SkipTally,
) -> Iterator[FrameOutcome]:
    """Yield the outcome of every readable frame, in frame order.

    Args:
        session: the recorded session.
        variants: the variants to run, ONNX Runtime twins for speed.
        settings: regions, target and batch size.
        tally: receives the counts of frames that could not be read.
    """
    preprocessings = list(dict.fromkeys(variant.preprocessing for variant in variants))
    prepared: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_BATCHES * settings.batch_size)
    stop = threading.Event()
    worker = threading.Thread(
        target=_prepare_all,
        args=(session, preprocessings, settings, tally, prepared, stop),
        name="replay-decoder",
        daemon=True,
    )
    worker.start()
    try:
        batch: list[_Prepared] = []
        while True:
            item = prepared.get()
            if isinstance(item, _Failure):
                raise item.error
            if item is _END:
                break
            assert isinstance(item, _Prepared)
            batch.append(item)
            if len(batch) == settings.batch_size:
                yield from _infer(batch, variants, settings.target)
                batch = []
        if batch:
            yield from _infer(batch, variants, settings.target)
    finally:
        stop.set()
        # Unblock a decoder waiting on a full queue so that it checks the stop flag.
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                prepared.get(timeout=0.05)
        worker.join()


def _prepare_all(
    session: Session,
    preprocessings: list[Preprocessing],
    settings: ReplaySettings,
    tally: SkipTally,
    prepared: queue.Queue[object],
    stop: threading.Event,
) -> None:
    try:
        marker_frame = patch_frame(settings.patch_size_mm)
        intrinsics: Intrinsics | None = None
        for record, image in decode_frames(session, tally):
            if stop.is_set():
                return
            size = (int(image.shape[1]), int(image.shape[0]))
            if intrinsics is None:
                intrinsics = session_intrinsics(session.info.camera, size)
            conditions, source = _conditions(record, image, marker_frame, intrinsics)
            region = record.input_region or _region(size, conditions, settings.crop_scale)
            inputs = {
                preprocessing: model_input(image, region, preprocessing)
                for preprocessing in preprocessings
            }
            prepared.put(_Prepared(record, conditions, source, inputs))
    except BaseException as error:  # The consumer re-raises it in the calling thread.
        prepared.put(_Failure(error))
        return
    prepared.put(_END)


def session_intrinsics(camera: CameraInfo, size: tuple[int, int]) -> Intrinsics:
    """Return the recorded camera, or the default field of view when none was recorded."""
    if not camera.camera_matrix:
        return Intrinsics.assumed(size, camera.assumed_fov_deg or DEFAULT_FOV_DEG)
    return Intrinsics(
        camera_matrix=np.array(camera.camera_matrix, dtype=np.float64),
        distortion=np.array(camera.distortion or (0.0,) * 5, dtype=np.float64),
        profile=camera.profile,
        assumed_fov_deg=camera.assumed_fov_deg,
    )


def _conditions(
    record: FrameRecord,
    image: NDArray[np.uint8],
    marker_frame: MarkerFrame,
    intrinsics: Intrinsics,
) -> tuple[Conditions, ConditionsSource]:
    if record.conditions is not None:
        return record.conditions, ConditionsSource.RECORDED
    grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    found = detect_markers(grey, marker_frame.ids)
    pose = estimate_pose(found, marker_frame, intrinsics, (image.shape[1], image.shape[0]))
    return measure_conditions(grey, pose, found), ConditionsSource.RECOMPUTED


def _region(size: tuple[int, int], conditions: Conditions, crop_scale: float | None) -> Region:
    corners = conditions.patch_corners_px
    return input_region(
        size, None if corners is None else np.array(corners, dtype=np.float64), crop_scale
    )


def _infer(
    batch: list[_Prepared], variants: Sequence[Variant], target: int | None
) -> Iterator[FrameOutcome]:
    stacked = {
        preprocessing: torch.stack([item.inputs[preprocessing] for item in batch])
        for preprocessing in batch[0].inputs
    }
    outputs: list[dict[str, VariantOutput]] = [{} for _ in batch]
    for variant in variants:
        with torch.no_grad():
            logits = variant(stacked[variant.preprocessing])
        probabilities = torch.softmax(logits.float(), dim=1)
        top_probability, top1 = probabilities.max(dim=1)
        target_column = None
        if target is not None and target < probabilities.shape[1]:
            target_column = probabilities[:, target]
        for row in range(len(batch)):
            outputs[row][variant.spec.name] = VariantOutput(
                top1=int(top1[row]),
                probability=float(top_probability[row]),
                target_probability=None if target_column is None else float(target_column[row]),
            )

    for item, output in zip(batch, outputs, strict=True):
        record = item.record
        yield FrameOutcome(
            index=record.index,
            time_s=record.time_s,
            phase=record.phase,
            tags=record.tags,
            conditions=item.conditions,
            conditions_source=item.source,
            outputs=output,
        )
