"""The live run: grabber, scorer and recorder threads, the keys and the view, until the end.

The main thread only reads keys and redraws the view. The grabber reads every frame and
hands it to the recorder's queue and to the scorer's one-frame slot. The scorer scores
the newest frame it finds. The recorder writes every frame it was handed. Ending the
run stops the grabber first, then the scorer, then closes the recording, so the session
ends with every frame that was read while recording.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Protocol

from harness.capture.grabber import (
    CapturedFrame,
    Controls,
    Grabber,
    LatestFrame,
    RunEnd,
    RunLimits,
)
from harness.capture.recorder import Recorder
from harness.capture.session import EndReason, SessionInfo
from harness.capture.sources import FrameReader
from harness.live.dashboard import DashboardState, VariantRow
from harness.live.keys import KeyReader
from harness.live.rates import RollingRates
from harness.live.scorer import FrameScorer, ScoringLoop

logger = logging.getLogger(__name__)

DASHBOARD_HZ = 4.0
"""View updates per second."""

KEY_POLL_S = 0.05
"""Maximum wait for a key between two checks of the run's state, in s."""

SignalHandler = Callable[[int, FrameType | None], Any] | int | None


class View(Protocol):
    """A live view: a context manager that shows states."""

    def __enter__(self) -> View: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def update(self, state: DashboardState) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RunLabels:
    """Fixed text of the view."""

    source: str
    frame_size: tuple[int, int]
    """(width, height) in px."""

    camera: str
    target: str | None


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """The end, counts and rates of a finished live run."""

    end: RunEnd
    session: SessionInfo | None
    """The recorded session, None when nothing was recorded."""

    recording_error: str | None
    frames_read: int
    scored_frames: int
    elapsed_s: float
    dashboard_updates: int
    median_ms: dict[str, float]
    """Median inference time per variant over the last frames, in ms."""

    median_frame_ms: float

    @property
    def capture_fps(self) -> float:
        """Frames read per second over the run."""
        return self.frames_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def scored_fps(self) -> float:
        """Frames scored per second over the run (every variant scores each of them)."""
        return self.scored_frames / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def dashboard_hz(self) -> float:
        """View updates per second over the run."""
        return self.dashboard_updates / self.elapsed_s if self.elapsed_s > 0 else 0.0


class LiveRunner:
    """Runs the threads of one live session; see the module docstring."""

    def __init__(
        self,
        *,
        reader: FrameReader,
        scorer: FrameScorer,
        rates: RollingRates,
        recorder: Recorder,
        controls: Controls,
        limits: RunLimits,
        labels: RunLabels,
    ) -> None:
        self._scorer = scorer
        self._rates = rates
        self._recorder = recorder
        self._controls = controls
        self._labels = labels
        self._latest = LatestFrame()
        self._grabber = Grabber(reader, controls, self._deliver, limits=limits)
        self._scoring = ScoringLoop(
            scorer, self._latest, rates, recorder, on_error=self._scoring_failed
        )
        self._started = time.monotonic()
        self._updates = 0

    def run(self, view: View, keys: KeyReader) -> RunOutcome:
        """Run until the source ends, a limit is reached, ``q``, Ctrl-C or SIGTERM."""
        self._recorder.start()
        self._scoring.start()
        self._started = time.monotonic()
        self._grabber.start()
        previous = self._catch_sigterm()
        try:
            with view, keys:
                self._loop(view, keys)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self._grabber.stop(EndReason.ERROR, "the run was left by an error")
            self._grabber.join()
            self._scoring.stop()
            self._scoring.join()

        end = self._grabber.end or RunEnd(EndReason.ERROR, "the grabber stopped without a reason")
        session = self._recorder.finish(end.reason, end.message, self._grabber.frames_read)
        scoring = self._scoring.status()
        return RunOutcome(
            end=end,
            session=session,
            recording_error=self._recorder.status().error,
            frames_read=self._grabber.frames_read,
            scored_frames=scoring.scored_frames,
            elapsed_s=time.monotonic() - self._started,
            dashboard_updates=self._updates,
            median_ms=scoring.median_ms,
            median_frame_ms=scoring.median_total_ms,
        )

    def _loop(self, view: View, keys: KeyReader) -> None:
        next_update = time.monotonic()
        try:
            while self._grabber.is_alive():
                key = keys.read(KEY_POLL_S)
                if key is not None:
                    self._handle_key(key)
                now = time.monotonic()
                if now >= next_update:
                    view.update(self.state(keys.active))
                    self._updates += 1
                    next_update = max(next_update + 1.0 / DASHBOARD_HZ, now)
            view.update(self.state(keys.active))
        except KeyboardInterrupt:
            self._grabber.stop(EndReason.INTERRUPTED, "interrupted (Ctrl-C)")

    def _handle_key(self, key: str) -> None:
        if key == " ":
            phase = self._controls.toggle_phase()
            logger.info("phase %s", phase.value)
        elif key.isdigit():
            tags = self._controls.toggle_tag(key)
            logger.info("tag %s", ",".join(tags) or "cleared")
        elif key.lower() == "r":
            _, _, recording = self._controls.snapshot()
            self._controls.set_recording(not recording)
            if recording:
                self._recorder.pause()
            logger.info("recording %s", "off" if recording else "on")
        elif key.lower() == "q":
            self._grabber.stop(EndReason.QUIT, "the user pressed q")

    def _deliver(self, frame: CapturedFrame) -> None:
        if frame.recording:
            self._recorder.submit(frame)
        self._latest.publish(frame)

    def _scoring_failed(self, message: str) -> None:
        self._grabber.stop(EndReason.ERROR, message)

    def _catch_sigterm(self) -> SignalHandler:
        """Make SIGTERM end the run like ``q``; return the handler to restore (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def terminate(number: int, frame: FrameType | None) -> None:
            self._grabber.stop(EndReason.INTERRUPTED, "terminated (SIGTERM)")

        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, terminate)
        return previous

    def state(self, keys_active: bool) -> DashboardState:
        """Return a snapshot of the run for the view."""
        phase, tags, recording = self._controls.snapshot()
        scoring = self._scoring.status()
        rates = self._rates.snapshot()
        recorder = self._recorder.status()
        latest = scoring.latest
        classes = {live.name: live.variant.classes for live in self._scorer.variants}
        reference_classes = next(iter(classes.values()))

        rows = []
        for live in self._scorer.variants:
            prediction = None if latest is None else latest.predictions.get(live.name)
            rate = rates.variants.get(live.name)
            rows.append(
                VariantRow(
                    name=live.name,
                    top1=None if prediction is None else classes[live.name].name(prediction.top1),
                    probability=None if prediction is None else prediction.probability,
                    target_probability=None
                    if prediction is None
                    else prediction.target_probability,
                    success=None if rate is None else rate.success,
                    misclassification=None if rate is None else rate.misclassification,
                    window_frames=0 if rate is None else rate.frames,
                    agreement=live.agreement,
                    degenerate=live.degenerate,
                    inference_ms=scoring.median_ms.get(live.name, math.nan),
                )
            )

        elapsed = time.monotonic() - self._started
        frames_read = self._grabber.frames_read
        reference = rates.reference
        return DashboardState(
            source=self._labels.source,
            frame_size=self._labels.frame_size,
            camera=self._labels.camera,
            target=self._labels.target,
            reference=None
            if reference is None
            else f"{reference_classes.name(reference)} ({reference})",
            phase=phase,
            tags=tags,
            recording=recording,
            session=recorder.folder,
            recording_error=recorder.error,
            variants=tuple(rows),
            conditions=None if latest is None else latest.conditions,
            elapsed_s=elapsed,
            frames_read=frames_read,
            capture_fps=self._grabber.meter.rate(),
            scored_frames=scoring.scored_frames,
            scored_fps=scoring.scored_fps,
            skipped_frames=max(0, frames_read - scoring.scored_frames),
            recorded_frames=recorder.recorded_frames,
            dropped_frames=recorder.dropped_frames,
            dashboard_hz=self._updates / elapsed if elapsed > 0 else 0.0,
            frame_ms=scoring.median_total_ms,
            keys=keys_active,
        )
