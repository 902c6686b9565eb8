"""The colour chart: swatch colours and their places, shared by the sheet and ``calibrate color``.

Swatch positions are in the chart's content frame (see ``markers``): mm, origin at the
top-left corner of the swatch area, x right, y down the sheet.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from harness.printing.markers import MarkerFrame, chart_frame

LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Levels per channel of the colour cube: 5³ = 125 swatches spread over the RGB gamut."""

EXTRA_GREYS = (1 / 16, 3 / 16, 1 / 8, 3 / 8, 5 / 8, 7 / 8, 15 / 16)
"""Greys added to the cube: printers and cameras bend the tone curve most near the ends."""

COLUMNS = 11
ROWS = 12
PITCH_MM = 14.0
"""Distance between the left edges (or top edges) of neighbouring swatches, in mm."""

SWATCH_MM = 12.0
"""Side of one swatch, in mm; the rest of the pitch is white paper."""

_SHUFFLE_STRIDE = 37
"""Swatches are placed at index * 37 mod 132 so that neighbours differ in colour and an
uneven light does not fall on one part of the gamut only; 37 and 132 are coprime."""


@cache
def _colors() -> NDArray[np.float64]:
    cube = np.array([(r, g, b) for r in LEVELS for g in LEVELS for b in LEVELS])
    greys = np.repeat(np.array(EXTRA_GREYS)[:, None], 3, axis=1)
    colors = np.concatenate([cube, greys])
    colors.setflags(write=False)
    return colors


def swatch_colors() -> NDArray[np.float64]:
    """Return the (132, 3) digital sRGB colours of the swatches in [0, 1], in swatch order."""
    return _colors()


def swatch_cell(index: int) -> tuple[int, int]:
    """Return the (row, column) of swatch ``index`` on the chart."""
    cell = (index * _SHUFFLE_STRIDE) % (ROWS * COLUMNS)
    return divmod(cell, COLUMNS)


def swatch_box_mm(index: int) -> tuple[float, float, float, float]:
    """Return swatch ``index`` as (left, top, right, bottom) in the chart frame, in mm."""
    row, column = swatch_cell(index)
    margin = (PITCH_MM - SWATCH_MM) / 2
    left, top = column * PITCH_MM + margin, row * PITCH_MM + margin
    return left, top, left + SWATCH_MM, top + SWATCH_MM


def chart_markers() -> MarkerFrame:
    """Return the marker frame around the swatch area."""
    return chart_frame(COLUMNS * PITCH_MM, ROWS * PITCH_MM)
