"""Decoding a session's frames with their lines, counting what cannot be read.

Each segment's decoded frames are paired with its lines by ``segment_frame``. A segment
whose file is missing or cannot be opened loses all its frames, and a segment cut short
(fewer decoded frames than lines) loses its last ones. A segment that a crash left open
(``-open.avi``) is read as far as OpenCV can decode it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from harness.capture.session import FrameRecord, Session, read_segment
from harness.errors import SessionError

logger = logging.getLogger(__name__)


@dataclass
class SkipTally:
    """Counts of frames that replay could not read, filled in while frames are decoded."""

    lines: int = 0
    """Lines in ``frames.jsonl`` (complete ones)."""

    decoded: int = 0
    """Frames decoded and paired with their line."""

    missing_segments: dict[int, int] = field(default_factory=dict)
    """Frames lost per segment whose file is missing."""

    unreadable_segments: dict[int, int] = field(default_factory=dict)
    """Frames lost per segment that OpenCV cannot open."""

    cut_segments: dict[int, int] = field(default_factory=dict)
    """Frames lost per segment that ends before its last line's frame."""

    open_segments: list[int] = field(default_factory=list)
    """Segments read from a file that a crash left open."""

    @property
    def skipped(self) -> int:
        """Frames with a line but no decoded pixels."""
        return self.lines - self.decoded


def decode_frames(
    session: Session, tally: SkipTally, *, log_skips: bool = True
) -> Iterator[tuple[FrameRecord, NDArray[np.uint8]]]:
    """Yield every readable frame as (line, (H, W, 3) BGR image), in frame order.

    With ``log_skips``, each segment that loses frames logs a warning.
    """
    warn = logger.warning if log_skips else logger.debug
    by_segment: dict[int, list[FrameRecord]] = defaultdict(list)
    for record in session.frames:
        by_segment[record.segment].append(record)
    tally.lines = len(session.frames)
    open_paths = {int(path.name[:6]): path for path in session.open_segments}

    for number in sorted(by_segment):
        records = sorted(by_segment[number], key=lambda record: record.segment_frame)
        path: Path | None = session.segments.get(number)
        if path is None and number in open_paths:
            path = open_paths[number]
            tally.open_segments.append(number)
        if path is None:
            tally.missing_segments[number] = len(records)
            warn("segment %d is missing: %d frames skipped", number, len(records))
            continue

        by_position = {record.segment_frame: record for record in records}
        paired = 0
        try:
            for position, image in enumerate(read_segment(path)):
                line = by_position.get(position)
                if line is None:
                    continue
                paired += 1
                tally.decoded += 1
                yield line, image
        except SessionError:
            tally.unreadable_segments[number] = len(records) - paired
            warn("cannot open segment %s: %d frames skipped", path, len(records))
            continue
        if paired < len(records):
            tally.cut_segments[number] = len(records) - paired
            warn(
                "segment %s ends early: %d of its %d frames skipped",
                path,
                len(records) - paired,
                len(records),
            )
