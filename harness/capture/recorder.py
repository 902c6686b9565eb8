"""The crash-safe recorder: every frame into short video segments, one line per frame.

The recorder runs in its own thread and takes events from a queue, so the grabber only
ever appends to it. Frames go to the open video segment at once. A frame's line waits
until the scorer has either scored the frame or moved past it, because the line carries
the live predictions. The scorer always takes the newest frame, so lines wait about one
scoring interval. Lines are written in frame order and flushed one by one.

A segment is closed about ``segment_s`` after its first frame, but renamed from
``NNNNNN-open.avi`` to ``NNNNNN.avi`` only once the lines of all its frames are written and
the file is synced. A kill -9 therefore loses at most the open segments and the lines
still waiting, and leaves every closed segment and every earlier line readable.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from harness.capture.grabber import CapturedFrame
from harness.capture.session import (
    FRAMES_FILE,
    Conditions,
    EndReason,
    FrameRecord,
    Prediction,
    SessionCounts,
    SessionEnd,
    SessionInfo,
    TrueConditions,
    create_session_folder,
    frame_line,
    segment_path,
    write_session_info,
)
from harness.errors import SessionError

logger = logging.getLogger(__name__)

_NO_SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True, kw_only=True)
class RecorderSettings:
    """Segment length and the limits that keep the recorder from filling memory or disk."""

    segment_s: float = 1.0
    """Target length of one video segment, in s."""

    min_free_bytes: int = 200 * 1024 * 1024
    """Recording stops before a new segment when the disk has less free space, in bytes."""

    max_backlog_bytes: int = 256 * 1024 * 1024
    """Frames waiting to be written, in bytes, beyond which new frames are dropped (about
    3 s of 1280x720 frames at 30 fps)."""

    fourcc: str = "MJPG"


@dataclass(frozen=True, kw_only=True)
class RecorderStatus:
    """Recording counts and errors for the live view."""

    folder: Path | None
    recorded_frames: int
    dropped_frames: int
    segments: int
    error: str | None
    """Reason recording stopped early (disk full, a failed write), or None."""


@dataclass(frozen=True)
class _FrameTaken:
    index: int


@dataclass(frozen=True)
class _FrameScored:
    index: int
    conditions: Conditions
    input_region: tuple[int, int, int, int]
    predictions: dict[str, Prediction]


@dataclass(frozen=True)
class _FrameDescribed:
    index: int
    conditions: Conditions
    truth: TrueConditions | None
    input_region: tuple[int, int, int, int] | None


@dataclass(frozen=True)
class _Pause:
    pass


@dataclass(frozen=True)
class _Finish:
    reason: EndReason
    message: str
    source_frames: int


_Event = CapturedFrame | _FrameTaken | _FrameScored | _FrameDescribed | _Pause | _Finish


@dataclass
class _Pending:
    """A written frame whose line waits for the scorer."""

    record: FrameRecord
    taken: bool = False
    described: bool = False
    """Complete without the scorer: the frame of a simulated session."""


@dataclass
class _Segment:
    number: int
    writer: cv2.VideoWriter
    first_time_s: float
    frames: int = 0
    last_index: int = -1


@dataclass
class _Counters:
    recorded: int = 0
    scored: int = 0
    dropped: int = 0
    closed_segments: int = 0
    backlog_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RecordingStopped(Exception):
    """Recording cannot go on (disk full, a failed write); the message gives the reason."""


class Recorder(threading.Thread):
    """Writes a session folder from frames, scorer notices and a final :meth:`finish`.

    Args:
        captures: the folder that session folders are created in.
        template: the session description; its id is replaced by the new folder's name.
        settings: segment length and limits.
        fps: frame rate written into the video headers (frame times are in the lines).
    """

    def __init__(
        self,
        captures: Path,
        template: SessionInfo,
        settings: RecorderSettings,
        *,
        fps: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name="recorder", daemon=True)
        self._captures = captures
        self._template = template
        self._settings = settings
        self._fps = fps
        self._now = now
        self._events: queue.Queue[_Event] = queue.Queue()
        self._counters = _Counters()
        self._error: str | None = None
        self._folder: Path | None = None
        self._info: SessionInfo | None = None
        self._lines: IO[str] | None = None
        self._size: tuple[int, int] | None = None
        self._pending: OrderedDict[int, _Pending] = OrderedDict()
        self._latest_index = -1
        self._taken_index = -1
        self._written_index = -1
        self._current: _Segment | None = None
        self._closing: list[_Segment] = []
        self._next_segment = 0
        self.result: SessionInfo | None = None
        """The final session description, set by :meth:`finish` when a session was written."""

    # --- called from other threads ------------------------------------------------------

    def submit(self, frame: CapturedFrame) -> bool:
        """Queue a frame for recording without waiting; False when it was dropped."""
        size = frame.image.nbytes
        with self._counters.lock:
            if self._error is not None:
                return False
            if self._counters.backlog_bytes + size > self._settings.max_backlog_bytes:
                self._counters.dropped += 1
                return False
            self._counters.backlog_bytes += size
        self._events.put(frame)
        return True

    def frame_taken(self, index: int) -> None:
        """Note that the scorer took frame ``index``, so every earlier untaken frame is skipped."""
        self._events.put(_FrameTaken(index))

    def frame_scored(
        self,
        index: int,
        conditions: Conditions,
        input_region: tuple[int, int, int, int],
        predictions: dict[str, Prediction],
    ) -> None:
        """Attach the live result to frame ``index``'s line."""
        self._events.put(_FrameScored(index, conditions, input_region, predictions))

    def frame_described(
        self,
        index: int,
        conditions: Conditions,
        truth: TrueConditions | None,
        input_region: tuple[int, int, int, int] | None = None,
    ) -> None:
        """Attach measured and true conditions to frame ``index``'s line and write it without
        waiting for a scorer; simulated sessions, which score nothing live, use this.

        ``input_region`` (left, top, right, bottom) px, when given, is the region that
        ``score`` classifies instead of the one it would derive from the conditions.
        """
        self._events.put(_FrameDescribed(index, conditions, truth, input_region))

    def pause(self) -> None:
        """Close the open segment, because recording was switched off."""
        self._events.put(_Pause())

    def finish(self, reason: EndReason, message: str, source_frames: int) -> SessionInfo | None:
        """Write what is left, close the session and wait for the thread; return the final
        description, or None when no frame was recorded."""
        self._events.put(_Finish(reason, message, source_frames))
        self.join()
        return self.result

    def status(self) -> RecorderStatus:
        """Return counts for the live view."""
        with self._counters.lock:
            return RecorderStatus(
                folder=self._folder,
                recorded_frames=self._counters.recorded,
                dropped_frames=self._counters.dropped,
                segments=self._counters.closed_segments,
                error=self._error,
            )

    # --- the recorder thread ------------------------------------------------------------

    def run(self) -> None:
        while True:
            event = self._events.get()
            if isinstance(event, _Finish):
                self._finish(event)
                return
            if self._error is not None:
                self._release(event)
                continue
            try:
                self._handle(event)
            except RecordingStopped as error:
                self._stop_recording(str(error))
            except Exception as error:  # A bug must stop recording, not the whole run.
                logger.exception("the recorder failed")
                self._stop_recording(f"the recorder failed: {error}")

    def _handle(self, event: _Event) -> None:
        if isinstance(event, CapturedFrame):
            self._release(event)
            self._latest_index = event.index
            self._write_frame(event)
        elif isinstance(event, _FrameTaken):
            self._taken_index = max(self._taken_index, event.index)
            if event.index in self._pending:
                self._pending[event.index].taken = True
        elif isinstance(event, _FrameScored):
            pending = self._pending.get(event.index)
            if pending is not None:
                pending.record = replace(
                    pending.record,
                    conditions=event.conditions,
                    input_region=event.input_region,
                    predictions=event.predictions,
                )
                pending.taken = True
        elif isinstance(event, _FrameDescribed):
            pending = self._pending.get(event.index)
            if pending is not None:
                pending.record = replace(
                    pending.record,
                    conditions=event.conditions,
                    truth=event.truth,
                    input_region=event.input_region,
                )
                pending.described = True
        elif isinstance(event, _Pause):
            # Its lines still wait for the scorer, which goes on taking frames while paused.
            self._rotate_segment()
        self._flush_lines(everything=False)

    def _release(self, event: _Event) -> None:
        if isinstance(event, CapturedFrame):
            with self._counters.lock:
                self._counters.backlog_bytes -= event.image.nbytes

    def _write_frame(self, frame: CapturedFrame) -> None:
        if self._folder is None:
            self._open_session(frame)
        segment = self._current
        if segment is None or frame.time_s - segment.first_time_s >= self._settings.segment_s:
            self._rotate_segment()
            segment = self._open_segment(frame.time_s)

        image = frame.image
        assert self._size is not None
        if (image.shape[1], image.shape[0]) != self._size:
            # A video segment has one frame size; a stream that changes size is scaled back.
            image = np.asarray(cv2.resize(image, self._size, interpolation=cv2.INTER_AREA))
        segment.writer.write(image)
        record = FrameRecord(
            index=frame.index,
            time_s=round(frame.time_s, 4),
            phase=frame.phase,
            tags=frame.tags,
            segment=segment.number,
            segment_frame=segment.frames,
        )
        segment.frames += 1
        segment.last_index = frame.index
        self._pending[frame.index] = _Pending(record)

    def _open_session(self, frame: CapturedFrame) -> None:
        started = self._template.started
        folder = create_session_folder(self._captures, datetime.fromisoformat(started))
        self._folder = folder
        self._size = (frame.image.shape[1], frame.image.shape[0])
        self._info = replace(self._template, session_id=folder.name)
        try:
            write_session_info(folder, self._info)
            self._lines = (folder / FRAMES_FILE).open("a", encoding="utf-8")
        except OSError as error:
            raise RecordingStopped(_write_failure(folder, error)) from None
        logger.info("recording to %s", folder)

    def _open_segment(self, time_s: float) -> _Segment:
        assert self._folder is not None and self._size is not None
        free = shutil.disk_usage(self._folder).free
        if free < self._settings.min_free_bytes:
            raise RecordingStopped(
                f"disk full: {free / 1e6:.0f} MB free in {self._folder}, below the "
                f"{self._settings.min_free_bytes / 1e6:.0f} MB kept free (--min-free-mb)"
            )
        number = self._next_segment
        self._next_segment += 1
        path = segment_path(self._folder, number, open_segment=True)
        writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter.fourcc(*self._settings.fourcc), self._fps, self._size
        )
        if not writer.isOpened():
            raise RecordingStopped(f"cannot write video segment {path}")
        self._current = _Segment(number=number, writer=writer, first_time_s=time_s)
        return self._current

    def _rotate_segment(self) -> None:
        """Move the open segment to the ones that close once their lines are written."""
        if self._current is not None:
            self._closing.append(self._current)
            self._current = None
        self._close_finished_segments()

    def _flush_lines(self, *, everything: bool) -> None:
        """Write the lines that no longer wait for the scorer; all of them with ``everything``."""
        while self._pending:
            index, pending = next(iter(self._pending.items()))
            decided = (
                pending.record.scored
                or pending.described
                or (not pending.taken and index < self._taken_index)
            )
            if not (everything or decided):
                break
            self._write_line(pending.record)
            del self._pending[index]
        self._close_finished_segments()

    def _write_line(self, record: FrameRecord) -> None:
        assert self._lines is not None and self._folder is not None
        try:
            self._lines.write(frame_line(record))
            self._lines.flush()
        except OSError as error:
            raise RecordingStopped(_write_failure(self._folder / FRAMES_FILE, error)) from None
        self._written_index = record.index
        with self._counters.lock:
            self._counters.recorded += 1
            self._counters.scored += int(record.scored)

    def _close_finished_segments(self) -> None:
        while self._closing and self._closing[0].last_index <= self._written_index:
            self._close_segment(self._closing.pop(0))

    def _close_segment(self, segment: _Segment) -> None:
        assert self._folder is not None and self._lines is not None
        segment.writer.release()
        path = segment_path(self._folder, segment.number, open_segment=True)
        # The writer reports no failed write, so read the frame count back from the index.
        capture = cv2.VideoCapture(str(path))
        written = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
        capture.release()
        if written != segment.frames:
            raise RecordingStopped(
                f"writing video segment {path} failed: it contains {written} of "
                f"{segment.frames} frames (disk full, or a file size limit)"
            )
        try:
            with path.open("rb") as file:
                os.fsync(file.fileno())
            os.fsync(self._lines.fileno())
            path.replace(segment_path(self._folder, segment.number))
        except OSError as error:
            raise RecordingStopped(_write_failure(path, error)) from None
        with self._counters.lock:
            self._counters.closed_segments += 1

    def _stop_recording(self, message: str) -> None:
        """Give up recording after a failure; keep everything already closed."""
        logger.error("recording stopped: %s", message)
        with self._counters.lock:
            self._error = message
        for segment in [*self._closing, *([self._current] if self._current else [])]:
            segment.writer.release()
        self._closing, self._current = [], None
        self._pending.clear()
        self._write_end(EndReason.DISK_FULL, message, source_frames=self._latest_index + 1)

    def _finish(self, event: _Finish) -> None:
        if self._error is None and self._folder is not None:
            try:
                self._flush_lines(everything=True)
                self._rotate_segment()
                self._close_finished_segments()
            except RecordingStopped as error:
                self._stop_recording(str(error))
            else:
                self._write_end(event.reason, event.message, event.source_frames)
        elif self._error is not None and self._info is not None:
            # Keep the disk-full reason but add the run's final frame count.
            self._info = replace(self._info, counts=self._counts(event.source_frames))
            self._write_info()
        if self._lines is not None:
            try:
                self._lines.close()
            except OSError:
                logger.warning("closing %s failed", FRAMES_FILE)
        self.result = self._info

    def _write_end(self, reason: EndReason, message: str, source_frames: int) -> None:
        if self._info is None:
            return
        ended = SessionEnd(
            reason=reason, message=message, time=self._now().isoformat(timespec="seconds")
        )
        self._info = replace(self._info, ended=ended, counts=self._counts(source_frames))
        self._write_info()

    def _counts(self, source_frames: int) -> SessionCounts:
        with self._counters.lock:
            return SessionCounts(
                source_frames=source_frames,
                recorded_frames=self._counters.recorded,
                scored_frames=self._counters.scored,
                dropped_frames=self._counters.dropped,
                segments=self._counters.closed_segments,
            )

    def _write_info(self) -> None:
        assert self._folder is not None and self._info is not None
        try:
            write_session_info(self._folder, self._info)
        except OSError as error:
            logger.error("cannot update %s: %s", self._folder, _write_failure(self._folder, error))


def _write_failure(path: Path, error: OSError) -> str:
    if error.errno == errno.EFBIG:
        return f"writing {path} failed: file size limit reached ({error.strerror})"
    if error.errno in _NO_SPACE_ERRORS:
        return f"writing {path} failed: disk full ({error.strerror})"
    return f"writing {path} failed: {error.strerror or error}"


def check_free_space(folder: Path, min_free_bytes: int) -> None:
    """Raise :class:`SessionError` when ``folder``'s disk has less free space than the minimum."""
    free = shutil.disk_usage(folder).free
    if free < min_free_bytes:
        raise SessionError(
            f"only {free / 1e6:.0f} MB free in {folder}: recording keeps "
            f"{min_free_bytes / 1e6:.0f} MB free; free some space or lower --min-free-mb"
        )
