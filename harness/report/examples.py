"""Example frames for the report: one clean and one patch frame, with each variant's output.

The patch example is the patch frame on which the most variants predict the target (for
an untargeted session, the most misclassify), so the page shows what success looks like.
The clean example is the middle clean frame.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2

from harness.capture.session import Phase
from harness.report.scores import ScoredSession
from harness.scoring.frames import SkipTally, decode_frames

THUMBNAIL_WIDTH = 640
"""Width of the saved example images, in px."""


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """One variant's output on an example frame."""

    variant: str
    name: str
    """Class name of the top-1 class."""

    probability: float
    success: bool
    """Whether the top-1 class is the target."""


@dataclass(frozen=True, kw_only=True)
class ExampleFrame:
    """An example frame saved as JPEG, with the predictions of the score run."""

    index: int
    phase: Phase
    image: Path
    predictions: list[Prediction]


def example_frames(scored: ScoredSession, folder: Path) -> dict[Phase, ExampleFrame | None]:
    """Save the example frames as JPEG files in ``folder``; None for a phase without frames."""
    rows_by_frame: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in scored.rows:
        rows_by_frame[int(row["frame"])].append(row)
    chosen = {phase: _choose(rows_by_frame, phase) for phase in Phase}

    requested = {index: phase for phase, index in chosen.items() if index is not None}
    images: dict[Phase, Path] = {}
    for record, image in decode_frames(scored.salvaged.session, SkipTally(), log_skips=False):
        phase = requested.get(record.index)
        if phase is None:
            continue
        height, width = image.shape[:2]
        scale = THUMBNAIL_WIDTH / width
        thumbnail = cv2.resize(
            image, (THUMBNAIL_WIDTH, round(height * scale)), interpolation=cv2.INTER_AREA
        )
        path = folder / f"example-{phase.value}.jpg"
        cv2.imwrite(str(path), thumbnail, [cv2.IMWRITE_JPEG_QUALITY, 85])
        images[phase] = path
        if len(images) == len(requested):
            break

    examples: dict[Phase, ExampleFrame | None] = {}
    for phase in Phase:
        index = chosen[phase]
        if index is None or phase not in images:
            examples[phase] = None
            continue
        examples[phase] = ExampleFrame(
            index=index,
            phase=phase,
            image=images[phase],
            predictions=[
                Prediction(
                    variant=row["variant"],
                    name=row["top1_name"],
                    probability=float(row["probability"]),
                    success=row["success"] == "1",
                )
                for row in rows_by_frame[index]
            ],
        )
    return examples


def _choose(rows_by_frame: dict[int, list[dict[str, str]]], phase: Phase) -> int | None:
    frames = sorted(
        index for index, rows in rows_by_frame.items() if rows[0]["phase"] == phase.value
    )
    if not frames:
        return None
    middle = frames[len(frames) // 2]
    if phase is Phase.CLEAN:
        return middle

    def hits(index: int) -> tuple[int, int]:
        rows = rows_by_frame[index]
        successes = sum(row["success"] == "1" for row in rows)
        return successes, sum(row["misclassified"] == "1" for row in rows)

    # Most successes first, then most misclassifications, then nearest the middle.
    return max(frames, key=lambda index: (*hits(index), -abs(index - middle)))
