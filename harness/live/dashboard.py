"""The live view: a rich dashboard on a terminal, periodic log lines otherwise.

Both views take a :class:`DashboardState`, a plain snapshot that the command assembles
from the grabber, the scorer and the recorder, so they never touch a running thread.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.capture.session import Conditions, Phase
from harness.live.keys import KEY_HELP

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class VariantRow:
    """One variant's line of the dashboard."""

    name: str
    top1: str | None
    """Top-1 class name on the latest scored frame."""

    probability: float | None
    target_probability: float | None
    success: float | None
    """Rolling targeted success in the current phase, in [0, 1]."""

    misclassification: float | None
    """Rolling misclassification against the clean reference, in [0, 1]."""

    window_frames: int
    agreement: float
    """Clean top-1 agreement with fp32, in [0, 1]."""

    degenerate: bool
    inference_ms: float
    """Median inference time per frame, in ms."""


@dataclass(frozen=True, kw_only=True)
class DashboardState:
    """Everything the live view shows at one moment."""

    source: str
    frame_size: tuple[int, int]
    """(width, height) in px."""

    camera: str
    """Source of the pose's intrinsics, e.g. ``camera profile webcam`` or an assumed FOV."""

    target: str | None
    reference: str | None
    """Clean reference class, or None until known."""

    phase: Phase
    tags: tuple[str, ...]
    recording: bool
    session: Path | None
    recording_error: str | None
    variants: tuple[VariantRow, ...]
    conditions: Conditions | None
    """Conditions of the latest scored frame."""

    elapsed_s: float
    frames_read: int
    capture_fps: float
    scored_frames: int
    scored_fps: float
    skipped_frames: int
    """Frames read but not scored, because scoring was busy with an earlier one."""

    recorded_frames: int
    dropped_frames: int
    dashboard_hz: float
    frame_ms: float
    """Median time to score one frame with every variant, in ms."""

    keys: bool
    """Whether keys are read."""


def render(state: DashboardState) -> RenderableType:
    """Return the dashboard of ``state`` as a rich renderable."""
    width, height = state.frame_size
    header = Text()
    header.append(f"{state.source}  {width}x{height}  ", style="bold")
    phase_style = "bold black on yellow" if state.phase is Phase.PATCH else "bold black on cyan"
    header.append(f" {state.phase.value.upper()} ", style=phase_style)
    if state.tags:
        header.append(f"  tag {','.join(state.tags)}", style="bold")
    header.append("   ")
    header.append(_recording_text(state))

    target = Text(f"target {state.target or 'none (untargeted)'}   ")
    target.append(f"clean reference {state.reference or 'not yet known (show the clean scene)'}")

    table = Table(expand=False, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("variant", "left"),
        ("top-1", "left"),
        ("p", "right"),
        ("p(target)", "right"),
        ("success", "right"),
        ("miscls", "right"),
        ("frames", "right"),
        ("agree fp32", "right"),
        ("ms", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for row in state.variants:
        name = Text(row.name)
        if row.degenerate:
            name.append(" degenerate", style="bold red")
        table.add_row(
            name,
            row.top1 or "-",
            _number(row.probability),
            _number(row.target_probability),
            _percent(row.success),
            _percent(row.misclassification),
            str(row.window_frames),
            _percent(row.agreement),
            _number(row.inference_ms, "{:.1f}"),
        )

    rates = Text(
        f"capture {state.capture_fps:.1f} fps   scored {state.scored_fps:.1f} fps "
        f"({state.frame_ms:.0f} ms/frame)   read {state.frames_read}   scored "
        f"{state.scored_frames}   skipped {state.skipped_frames}   recorded "
        f"{state.recorded_frames}   dropped {state.dropped_frames}   dashboard "
        f"{state.dashboard_hz:.1f} Hz   {state.elapsed_s:.0f} s"
    )
    keys = Text(KEY_HELP if state.keys else "keys off", style="dim")
    return Group(header, target, table, Text(conditions_text(state)), rates, keys)


def conditions_text(state: DashboardState) -> str:
    """Return the conditions line: markers, pose, distance, area, luminance and sharpness."""
    conditions = state.conditions
    if conditions is None:
        return "conditions: no frame scored yet"
    lighting = f"luminance {conditions.luminance:.2f}  sharpness {conditions.sharpness:.4f}"
    if not conditions.markers:
        return f"markers 0/4 (patch not in view)  {lighting}"
    return (
        f"markers {len(conditions.markers)}/4  yaw {conditions.yaw_deg:+.0f}°  "
        f"pitch {conditions.pitch_deg:+.0f}°  roll {conditions.roll_deg:+.0f}°  "
        f"distance {conditions.distance_m:.2f} m ({state.camera})  "
        f"patch {conditions.patch_area_px:.0f} px²  {lighting}"
    )


def log_line(state: DashboardState) -> str:
    """Return one plain line of the live state, for logs without a terminal."""
    parts = [
        f"{state.elapsed_s:.0f} s {state.phase.value}"
        + (f" tag {','.join(state.tags)}" if state.tags else ""),
        f"capture {state.capture_fps:.1f} fps, scored {state.scored_fps:.1f} fps, "
        f"skipped {state.skipped_frames}, recorded {state.recorded_frames}",
    ]
    for row in state.variants:
        text = f"{row.name}: {row.top1 or '-'} {_number(row.probability)}"
        if row.success is not None:
            text += f" success {_percent(row.success)}"
        if row.misclassification is not None:
            text += f" miscls {_percent(row.misclassification)}"
        if row.degenerate:
            text += " (degenerate)"
        parts.append(text)
    parts.append(conditions_text(state))
    return " | ".join(parts)


class RichView:
    """The dashboard, redrawn on each :meth:`update` (the caller sets the rate)."""

    def __init__(self, console: Console) -> None:
        self._live = Live(console=console, auto_refresh=False, transient=False)

    def __enter__(self) -> RichView:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._live.stop()

    def update(self, state: DashboardState) -> None:
        """Redraw the dashboard."""
        self._live.update(render(state), refresh=True)


class LogView:
    """One log line of the live state every ``interval_s`` seconds."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._next = time.monotonic()

    def __enter__(self) -> LogView:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def update(self, state: DashboardState) -> None:
        """Log the state when the interval has passed."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval_s
            logger.info("%s", log_line(state))


def _recording_text(state: DashboardState) -> Text:
    if state.recording_error is not None:
        return Text(f"recording stopped: {state.recording_error}", style="bold red")
    if state.recording:
        where = f" to {state.session}" if state.session is not None else ""
        return Text(f"● REC{where}", style="bold red")
    return Text("recording off", style="dim")


def _number(value: float | None, form: str = "{:.2f}") -> str:
    return "-" if value is None or math.isnan(value) else form.format(value)


def _percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.0%}"
