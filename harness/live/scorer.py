"""Scoring the newest frame: markers, pose, conditions and every variant's prediction.

:class:`FrameScorer` scores one frame. :class:`ScoringLoop` runs it in a thread on the
newest frame the grabber published, reports each frame it takes and its result to the
recorder, and keeps the rolling rates and timings that the dashboard shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from harness.capture.grabber import CapturedFrame, Clock, LatestFrame, RateMeter
from harness.capture.pose import Intrinsics, estimate_pose, measure_conditions
from harness.capture.recorder import Recorder
from harness.capture.session import Conditions, Phase, Prediction
from harness.live.inputs import Region, input_region, model_input
from harness.live.rates import RollingRates
from harness.models.preprocess import Preprocessing
from harness.printing.markers import MarkerFrame, detect_markers
from harness.scoring.variants import ScoringVariant

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FrameResult:
    """The live result of one frame."""

    index: int
    phase: Phase
    conditions: Conditions
    region: Region
    predictions: dict[str, Prediction]
    variant_ms: dict[str, float]
    """Inference time per variant on this frame, in ms."""

    total_ms: float
    """Time for the whole frame: markers, pose, conditions, inputs and inference, in ms."""


class FrameScorer:
    """Scores one frame with every variant.

    Args:
        variants: the variants, in display order.
        marker_frame: the printed marker geometry around the patch.
        intrinsics: the camera at the frame size.
        crop_scale: the variants see a square of this many patch extents around the patch
            when it is in view, and the whole frame otherwise; None for the whole frame.
        target: the target class index, None for an untargeted run.
    """

    def __init__(
        self,
        variants: list[ScoringVariant],
        marker_frame: MarkerFrame,
        intrinsics: Intrinsics,
        *,
        crop_scale: float | None,
        target: int | None,
    ) -> None:
        self.variants = variants
        self._marker_frame = marker_frame
        self._intrinsics = intrinsics
        self._crop_scale = crop_scale
        self._target = target

    def score(self, frame: CapturedFrame) -> FrameResult:
        """Return the conditions and predictions of a frame."""
        started = time.perf_counter()
        image = frame.image
        image_size = (image.shape[1], image.shape[0])
        grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        found = detect_markers(grey, self._marker_frame.ids)
        pose = estimate_pose(found, self._marker_frame, self._intrinsics, image_size)
        conditions = measure_conditions(grey, pose, found)
        region = input_region(
            image_size, None if pose is None else pose.corners_px, self._crop_scale
        )

        inputs: dict[Preprocessing, torch.Tensor] = {}
        predictions: dict[str, Prediction] = {}
        timings: dict[str, float] = {}
        for live in self.variants:
            preprocessing = live.variant.preprocessing
            if preprocessing not in inputs:
                inputs[preprocessing] = model_input(image, region, preprocessing).unsqueeze(0)
            called = time.perf_counter()
            with torch.no_grad():
                logits = live.variant(inputs[preprocessing])[0]
            timings[live.name] = (time.perf_counter() - called) * 1000.0
            predictions[live.name] = self._prediction(logits)

        return FrameResult(
            index=frame.index,
            phase=frame.phase,
            conditions=conditions,
            region=region,
            predictions=predictions,
            variant_ms=timings,
            total_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _prediction(self, logits: torch.Tensor) -> Prediction:
        probabilities = torch.softmax(logits.float(), dim=0)
        top1 = int(probabilities.argmax())
        target = None
        if self._target is not None and self._target < len(probabilities):
            target = round(float(probabilities[self._target]), 6)
        return Prediction(
            top1=top1, probability=round(float(probabilities[top1]), 6), target_probability=target
        )


@dataclass(frozen=True, kw_only=True)
class ScoringStatus:
    """Scoring counts, rates and timings for the dashboard."""

    latest: FrameResult | None
    scored_frames: int
    scored_fps: float
    median_ms: dict[str, float]
    """Median inference time per variant over recent frames, in ms."""

    median_total_ms: float


class ScoringLoop(threading.Thread):
    """Scores the newest frame again and again until :meth:`stop`.

    Args:
        scorer: scores one frame.
        latest: the slot the grabber publishes frames to.
        rates: rolling rates, updated with each result.
        recorder: receives each frame taken and its result; None when not recording.
        on_error: called with a message when scoring fails, to end the run.
    """

    TIMING_WINDOW = 30
    """Frames over which the median timings are taken."""

    def __init__(
        self,
        scorer: FrameScorer,
        latest: LatestFrame,
        rates: RollingRates,
        recorder: Recorder | None,
        on_error: Callable[[str], None],
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(name="scorer", daemon=True)
        self._scorer = scorer
        self._latest = latest
        self._rates = rates
        self._recorder = recorder
        self._on_error = on_error
        self._stop_requested = threading.Event()
        self._lock = threading.Lock()
        self._result: FrameResult | None = None
        self._scored = 0
        self._timings: dict[str, list[float]] = {live.name: [] for live in scorer.variants}
        self._totals: list[float] = []
        self.meter = RateMeter(clock=clock)
        """Scored frames per second."""

    def stop(self) -> None:
        """Finish the frame in hand, then stop."""
        self._stop_requested.set()

    def status(self) -> ScoringStatus:
        """Return the latest result, counts and timings."""
        with self._lock:
            return ScoringStatus(
                latest=self._result,
                scored_frames=self._scored,
                scored_fps=self.meter.rate(),
                median_ms={name: _median(values) for name, values in self._timings.items()},
                median_total_ms=_median(self._totals),
            )

    def run(self) -> None:
        last_index = -1
        while not self._stop_requested.is_set():
            frame = self._latest.wait_newer(last_index, timeout_s=0.1)
            if frame is None:
                continue
            last_index = frame.index
            if self._recorder is not None:
                self._recorder.frame_taken(frame.index)
            try:
                result = self._scorer.score(frame)
            except Exception as error:  # A failing variant must end the run with its reason.
                logger.exception("scoring frame %d failed", frame.index)
                self._on_error(f"scoring frame {frame.index} failed: {error}")
                return
            if self._recorder is not None and frame.recording:
                self._recorder.frame_scored(
                    frame.index, result.conditions, result.region, result.predictions
                )
            self._rates.add(result.phase, result.predictions)
            self.meter.tick()
            self._keep(result)

    def _keep(self, result: FrameResult) -> None:
        with self._lock:
            self._result = result
            self._scored += 1
            for name, milliseconds in result.variant_ms.items():
                values = self._timings[name]
                values.append(milliseconds)
                del values[: -self.TIMING_WINDOW]
            self._totals.append(result.total_ms)
            del self._totals[: -self.TIMING_WINDOW]


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")
