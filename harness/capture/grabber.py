"""The grabber thread: reads every frame at the source's rate and never waits for scoring.

Each frame is stamped with its index, capture time and the phase, tags and recording
state of that moment, then handed to a ``deliver`` callback that must return at once (the
recorder queues it, the scorer's slot keeps only the newest). Live sources set the rate
themselves. File sources are paced at their nominal rate, so a video plays as a camera
would deliver it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from harness.capture.session import EndReason, Phase
from harness.capture.sources import Frame, FrameReader, SourceLost

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Returns monotonic time in s."""


@dataclass(frozen=True)
class CapturedFrame:
    """One frame as the grabber stamped it."""

    index: int
    """Frame number since the run started, from 0."""

    time_s: float
    """Capture time since the run started, in s."""

    image: Frame
    """(H, W, 3) BGR pixels; shared between threads, so nobody may write to it."""

    phase: Phase
    tags: tuple[str, ...]
    recording: bool
    """Whether recording was on when the frame was read."""


class Controls:
    """The state that the keys change and the grabber stamps on each frame; thread-safe."""

    def __init__(self, *, phase: Phase = Phase.CLEAN, recording: bool = True) -> None:
        self._lock = threading.Lock()
        self._phase = phase
        self._tags: tuple[str, ...] = ()
        self._recording = recording

    def snapshot(self) -> tuple[Phase, tuple[str, ...], bool]:
        """Return (phase, tags, recording) as one consistent reading."""
        with self._lock:
            return self._phase, self._tags, self._recording

    def toggle_phase(self) -> Phase:
        """Switch between clean and patch; return the new phase."""
        with self._lock:
            self._phase = Phase.PATCH if self._phase is Phase.CLEAN else Phase.CLEAN
            return self._phase

    def toggle_tag(self, tag: str) -> tuple[str, ...]:
        """Set ``tag`` as the active tag, or clear it when it is already active."""
        with self._lock:
            self._tags = () if self._tags == (tag,) else (tag,)
            return self._tags

    def set_recording(self, recording: bool) -> None:
        """Start or stop recording from the next frame on."""
        with self._lock:
            self._recording = recording


class LatestFrame:
    """A one-frame slot: the grabber replaces its content, the scorer waits for a newer one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._frame: CapturedFrame | None = None

    def publish(self, frame: CapturedFrame) -> None:
        """Replace the frame in the slot and wake a waiting scorer."""
        with self._condition:
            self._frame = frame
            self._condition.notify_all()

    def wait_newer(self, after_index: int, timeout_s: float) -> CapturedFrame | None:
        """Return the newest frame if its index exceeds ``after_index``, waiting up to
        ``timeout_s`` for one; None on timeout."""
        with self._condition:
            self._condition.wait_for(
                lambda: self._frame is not None and self._frame.index > after_index, timeout_s
            )
            frame = self._frame
        return frame if frame is not None and frame.index > after_index else None


class RateMeter:
    """Events per second over the last ``window_s`` seconds; thread-safe."""

    def __init__(self, window_s: float = 2.0, clock: Clock = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def tick(self) -> None:
        """Count one event now."""
        with self._lock:
            self._times.append(self._clock())
            self._trim()

    def rate(self) -> float:
        """Return events per second in the window (0 before two events)."""
        with self._lock:
            self._trim()
            if len(self._times) < 2:
                return 0.0
            span = self._times[-1] - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self) -> None:
        horizon = self._clock() - self._window_s
        while self._times and self._times[0] < horizon:
            self._times.popleft()


@dataclass(frozen=True, kw_only=True)
class RunLimits:
    """When the run ends on its own."""

    max_frames: int | None = None
    """Frames to read from the source."""

    duration_s: float | None = None
    """Seconds to read for."""


@dataclass(frozen=True)
class RunEnd:
    """Why the grabber stopped."""

    reason: EndReason
    message: str


class Grabber(threading.Thread):
    """Reads the source until it ends, a limit is reached or :meth:`stop` is called."""

    def __init__(
        self,
        reader: FrameReader,
        controls: Controls,
        deliver: Callable[[CapturedFrame], None],
        *,
        limits: RunLimits,
        clock: Clock = time.monotonic,
        paced: bool | None = None,
    ) -> None:
        super().__init__(name="grabber", daemon=True)
        self._reader = reader
        self._controls = controls
        self._deliver = deliver
        self._limits = limits
        self._clock = clock
        self._paced = not reader.spec.live if paced is None else paced
        self._stop_requested = threading.Event()
        self._end: RunEnd | None = None
        self._end_lock = threading.Lock()
        self.frames_read = 0
        """Frames read from the source so far."""

        self.meter = RateMeter(clock=clock)
        """Capture rate."""

        self.start_time: float | None = None
        """Clock reading of frame 0's time base, set when the thread starts."""

    @property
    def end(self) -> RunEnd | None:
        """Why the grabber stopped, or None while it runs."""
        return self._end

    def stop(self, reason: EndReason, message: str) -> None:
        """Ask the grabber to stop after the current frame; the first reason given wins."""
        self._set_end(reason, message)
        self._stop_requested.set()

    def run(self) -> None:
        try:
            self._loop()
        except SourceLost as error:
            self._set_end(EndReason.SOURCE_LOST, str(error))
        except Exception as error:  # Any failure must end the run, not hang it.
            logger.exception("the grabber failed")
            self._set_end(EndReason.ERROR, f"the grabber failed: {error}")
        finally:
            self._reader.close()

    def _loop(self) -> None:
        start = self._clock()
        self.start_time = start
        limits = self._limits
        while not self._stop_requested.is_set():
            if limits.max_frames is not None and self.frames_read >= limits.max_frames:
                self._set_end(EndReason.MAX_FRAMES, f"read {self.frames_read} frames")
                return
            if limits.duration_s is not None and self._clock() - start >= limits.duration_s:
                self._set_end(EndReason.DURATION, f"ran for {limits.duration_s:g} s")
                return
            if self._paced:
                # A file plays at its own rate; waiting on the event keeps stop() responsive.
                due = start + self.frames_read / self._reader.fps
                wait = due - self._clock()
                if wait > 0 and self._stop_requested.wait(wait):
                    return

            image = self._reader.read()
            if image is None:
                description = self._reader.spec.description
                self._set_end(
                    EndReason.SOURCE_ENDED, f"{description} ended after {self.frames_read} frames"
                )
                return
            phase, tags, recording = self._controls.snapshot()
            frame = CapturedFrame(
                index=self.frames_read,
                time_s=self._clock() - start,
                image=image,
                phase=phase,
                tags=tags,
                recording=recording,
            )
            self.frames_read += 1
            self.meter.tick()
            self._deliver(frame)

    def _set_end(self, reason: EndReason, message: str) -> None:
        with self._end_lock:
            if self._end is None:
                self._end = RunEnd(reason, message)
