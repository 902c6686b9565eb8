"""Measure the colour of every swatch in a photo of the printed colour chart.

The chart's markers give a homography from the chart frame (mm) to the photo (px). The
photo is warped onto a fronto-parallel grid of the chart and each swatch is read as the
median of its central part, away from blurred or misregistered edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.printing import color_chart
from harness.printing.markers import detect_markers

MIN_MARKERS = 2
"""Chart markers needed for the homography: two give 8 corners, more than the 4 needed."""

PX_PER_MM = 4.0
"""Resolution of the rectified chart, in px per mm."""

SAMPLE_FRACTION = 0.6
"""Central part of a swatch's side that is read; the rest is left for blur and misfit."""


@dataclass(frozen=True)
class ChartReading:
    """Swatch colours read from one photo."""

    colors: NDArray[np.float64]
    """(S, 3) RGB in [0, 1] in swatch order; NaN rows for swatches outside the photo."""

    markers_found: int
    """Chart markers detected in the photo."""

    @property
    def swatches_found(self) -> int:
        """Swatches read in this photo."""
        return int((~np.isnan(self.colors[:, 0])).sum())


def read_chart(image: NDArray[np.uint8]) -> ChartReading:
    """Read all swatches of the chart in an (H, W, 3) RGB photo."""
    frame = color_chart.chart_markers()
    count = len(color_chart.swatch_colors())
    colors = np.full((count, 3), np.nan)
    found = detect_markers(image, frame.ids)
    if len(found) < MIN_MARKERS:
        return ChartReading(colors, len(found))

    # Homography from chart mm to photo px, then from rectified px (pixel centres at
    # (u + 0.5) / PX_PER_MM mm) to photo px.
    points = frame.object_points()
    chart_mm = np.concatenate([points[marker_id][:, :2] for marker_id in found])
    photo_px = np.concatenate(list(found.values()))
    photo_from_mm, _ = cv2.findHomography(chart_mm.astype(np.float32), photo_px)
    step = 1.0 / PX_PER_MM
    mm_from_rectified = np.array([[step, 0, step / 2], [0, step, step / 2], [0, 0, 1]])
    photo_from_rectified = np.asarray(photo_from_mm) @ mm_from_rectified

    size = (round(frame.width_mm * PX_PER_MM), round(frame.height_mm * PX_PER_MM))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    rectified = cv2.warpPerspective(image, photo_from_rectified, size, flags=flags)
    inside = np.full(image.shape[:2], 255, dtype=np.uint8)
    inside = cv2.warpPerspective(inside, photo_from_rectified, size, flags=flags) == 255

    for index in range(count):
        left, top, right, bottom = _sample_box_px(index)
        if inside[top:bottom, left:right].all():
            patch = rectified[top:bottom, left:right].reshape(-1, 3)
            colors[index] = np.median(patch, axis=0) / 255.0
    return ChartReading(colors, len(found))


def _sample_box_px(index: int) -> tuple[int, int, int, int]:
    left, top, right, bottom = color_chart.swatch_box_mm(index)
    inset = (right - left) * (1 - SAMPLE_FRACTION) / 2
    return (
        round((left + inset) * PX_PER_MM),
        round((top + inset) * PX_PER_MM),
        round((right - inset) * PX_PER_MM),
        round((bottom - inset) * PX_PER_MM),
    )


def combine_readings(readings: list[ChartReading]) -> NDArray[np.float64]:
    """Return the per-swatch median over photos, (S, 3), NaN where no photo saw a swatch."""
    stacked = np.stack([reading.colors for reading in readings])
    seen = ~np.isnan(stacked[..., 0])
    combined = np.full(stacked.shape[1:], np.nan)
    for index in np.flatnonzero(seen.any(axis=0)):
        combined[index] = np.median(stacked[seen[:, index], index], axis=0)
    return combined
