"""The report's figures, drawn on matplotlib ``Figure`` objects and saved as PNG at 150 dpi.

Figures are made without pyplot, so no global backend or figure list is touched.

Every figure takes one or more scored sessions: a single report draws one session, a
comparison draws one series per session. Rates are shown in %, with Wilson 95 % intervals
as error bars where a figure shows one series per variant.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text as MplText

from harness.report.conclusion import MIN_BIN_FRAMES
from harness.report.fonts import ReportFonts
from harness.report.scores import RateView, ScoredSession, VariantView
from harness.report.strings import Strings

DPI = 150
CONDITION_AXES = (
    ("yaw_deg", "axis_yaw"),
    ("distance_m", "axis_distance"),
    ("luminance", "axis_luminance"),
)
"""Conditions of the condition figure, with the key of their axis label."""


@contextmanager
def figure_style(fonts: ReportFonts) -> Iterator[None]:
    """Draw text with the report's font while the block runs."""
    family = "sans-serif"
    if fonts.path is not None:
        font_manager.fontManager.addfont(str(fonts.path))
        family = font_manager.FontProperties(fname=str(fonts.path)).get_name()
    with matplotlib.rc_context(
        {"font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "font.family": family}
    ):
        yield


def bits_figure(sessions: Sequence[ScoredSession], text: Strings, path: Path) -> Path:
    """Plot patch success (or misclassification, untargeted) against the variants' bit width.

    One session: the patch and clean phases. Several: the patch phase of each session.
    """
    figure = Figure(figsize=(7.0, 3.4))
    axis = figure.subplots()
    labels = _variant_labels(sessions)
    positions = np.arange(len(labels))
    series = _bits_series(sessions, text)
    # Series sit side by side around each bit width, close enough to read as one group.
    width = min(0.12, 0.8 / max(1, len(series)))
    for number, (name, rates, _) in enumerate(series):
        offset = (number - (len(series) - 1) / 2) * width
        values = [np.nan if rate is None else rate.rate * 100 for rate in rates]
        errors = np.array(
            [
                [0.0, 0.0]
                if rate is None
                else [(rate.rate - rate.low) * 100, (rate.high - rate.rate) * 100]
                for rate in rates
            ]
        ).T
        axis.errorbar(
            positions + offset, values, yerr=errors, fmt="o", capsize=3, label=name, markersize=4
        )
    # A degenerate bit width is named once, under its tick, whichever series it breaks.
    broken = [any(flags[index] for _, _, flags in series) for index in range(len(labels))]
    ticks = [
        f"{label}\n{text('degenerate')}" if flag else label
        for label, flag in zip(labels, broken, strict=True)
    ]
    axis.set_xticks(positions, ticks)
    _colour_degenerate(axis.get_xticklabels(), broken)
    axis.set_xlabel(text("axis_bits"))
    targeted = all(session.targeted for session in sessions)
    axis.set_ylabel(text("axis_success" if targeted else "untargeted_axis"))
    axis.set_ylim(-5, 105)
    axis.legend(fontsize=7, loc="best")
    return _save(figure, path)


def conditions_figure(sessions: Sequence[ScoredSession], text: Strings, path: Path) -> Path:
    """Plot patch success (misclassification, untargeted) per yaw, distance and luminance bin,
    one line per variant.

    Several sessions draw each session's variants, labelled with the session id.
    """
    figure = Figure(figsize=(7.4, 2.9))
    axes = figure.subplots(1, 3, sharey=True)
    for axis, (condition, label) in zip(axes, CONDITION_AXES, strict=True):
        for session in sessions:
            for variant in session.variants:
                points = [
                    (_bin_centre(entry.low, entry.high), entry.patch.rate * 100)
                    for entry in variant.bins.get(condition, [])
                    if entry.patch is not None and entry.patch_frames >= MIN_BIN_FRAMES
                ]
                if not points:
                    continue
                xs, ys = zip(*points, strict=True)
                name = variant.bits if len(sessions) == 1 else f"{_short(session)} {variant.bits}"
                style = ":" if variant.degenerate else "-"
                axis.plot(xs, ys, style, marker="o", markersize=3, label=name)
        axis.set_xlabel(text(label))
        axis.set_ylim(-5, 105)
    targeted = all(session.targeted for session in sessions)
    axes[0].set_ylabel(text("axis_success" if targeted else "untargeted_axis"))
    handles, names = axes[0].get_legend_handles_labels()
    if not handles:
        for axis in axes[1:]:
            handles, names = axis.get_legend_handles_labels()
            if handles:
                break
    if handles:
        figure.legend(handles, names, loc="upper center", ncol=min(6, len(names)), fontsize=7)
    figure.tight_layout(rect=(0, 0, 1, 0.88))
    return _save(figure, path, tight=False)


def heatmap_figure(sessions: Sequence[ScoredSession], text: Strings, path: Path) -> Path:
    """Draw patch success (misclassification, untargeted) for every variant (rows) and
    condition bin (columns), in %.

    Only bins with patch frames in some variant are shown; empty cells are grey.
    """
    rows = [
        (variant.name if len(sessions) == 1 else f"{_short(session)} {variant.bits}", variant)
        for session in sessions
        for variant in session.variants
    ]
    columns = _heatmap_columns([variant for _, variant in rows])
    values = np.full((len(rows), max(1, len(columns))), np.nan)
    for row, (_, variant) in enumerate(rows):
        for column, (condition, label) in enumerate(columns):
            entry = next(e for e in variant.bins[condition] if e.label == label)
            if entry.patch is not None:
                values[row, column] = entry.patch.rate * 100

    figure = Figure(figsize=(7.4, 0.5 + 0.38 * len(rows) + 1.2))
    axis = figure.subplots()
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
    image = axis.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for row in range(values.shape[0]):
        for column in range(len(columns)):
            if not math.isnan(values[row, column]):
                axis.text(
                    column,
                    row,
                    f"{values[row, column]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if values[row, column] < 60 else "black",
                )
    names = [
        f"{name} ({text('degenerate')})" if variant.degenerate else name for name, variant in rows
    ]
    axis.set_yticks(range(len(rows)), names, fontsize=7)
    _colour_degenerate(axis.get_yticklabels(), [variant.degenerate for _, variant in rows])
    axis.set_xticks(
        range(len(columns)),
        [f"{_condition_short(condition)} {label}" for condition, label in columns],
        rotation=60,
        ha="right",
        fontsize=6,
    )
    axis.set_xlabel(text("axis_condition"))
    axis.grid(False)
    targeted = all(session.targeted for session in sessions)
    label = text("axis_success" if targeted else "untargeted_axis")
    figure.colorbar(image, ax=axis, label=label, fraction=0.03)
    return _save(figure, path)


def _colour_degenerate(labels: Sequence[MplText], degenerate: Sequence[bool]) -> None:
    """Draw the tick labels of degenerate variants in red."""
    for label, flag in zip(labels, degenerate, strict=True):
        if flag:
            label.set_color("firebrick")


def _bits_series(
    sessions: Sequence[ScoredSession], text: Strings
) -> list[tuple[str, list[RateView | None], list[bool]]]:
    labels = _variant_labels(sessions)
    series = []
    for session in sessions:
        by_label = {_label(variant): variant for variant in session.variants}
        variants = [by_label.get(label) for label in labels]
        degenerate = [variant is not None and variant.degenerate for variant in variants]
        targeted = session.targeted
        patch = [None if v is None else _headline(v, targeted) for v in variants]
        name = text("patch") if len(sessions) == 1 else _short(session)
        series.append((name, patch, degenerate))
        if len(sessions) == 1:
            clean = [None if v is None else v.clean_success for v in variants]
            if targeted:
                series.append((text("clean"), clean, degenerate))
    return series


def _headline(variant: VariantView, targeted: bool) -> RateView | None:
    return variant.patch_success if targeted else variant.patch_misclassification


def _variant_labels(sessions: Sequence[ScoredSession]) -> list[str]:
    labels: dict[str, None] = {}
    for session in sessions:
        for variant in session.variants:
            labels[_label(variant)] = None
    return list(labels)


def _label(variant: VariantView) -> str:
    """Bit width, with the model when it is not the default."""
    model = variant.name.partition("@")[0]
    return variant.bits if model == "efficientnet-lite0" else f"{model}\n{variant.bits}"


def _heatmap_columns(variants: list[VariantView]) -> list[tuple[str, str]]:
    columns = []
    for condition, _ in CONDITION_AXES:
        for index, entry in enumerate(variants[0].bins.get(condition, []) if variants else []):
            if any(v.bins[condition][index].patch_frames for v in variants):
                columns.append((condition, entry.label))
    return columns


def _condition_short(condition: str) -> str:
    return {"yaw_deg": "yaw", "distance_m": "m", "luminance": "L"}.get(condition, condition)


def _bin_centre(low: float, high: float) -> float:
    if math.isinf(high):
        return low * 1.25 if low > 0 else low + 1.0
    if math.isinf(low):
        return high - 1.0
    return (low + high) / 2


def _short(session: ScoredSession) -> str:
    return session.salvaged.session.info.session_id


def _save(figure: Figure, path: Path, *, tight: bool = True) -> Path:
    if tight:
        figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return path
