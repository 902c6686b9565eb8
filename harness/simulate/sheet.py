"""The printed sheet in captured colour: patch, ArUco frame and white paper.

The sheet is drawn from :func:`harness.printing.markers.patch_frame`, the geometry that the
PDF and pose estimation read, at its physical size. The whole sheet (paper and marker
black included) then goes through the printer+camera colour profile, as a printed page
does.

Convention: sheet pixel (column i, row j) covers content-frame millimetres
``[origin_x + i / px_per_mm, origin_x + (i + 1) / px_per_mm)`` and the same along y, so its
centre lies at ``origin + (i + 0.5) / px_per_mm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from harness.calibration.color import ColorProfile
from harness.printing.markers import MARKER_CELLS, MarkerFrame, marker_cells, patch_frame


@dataclass(frozen=True)
class PrintedSheet:
    """A cut-out patch sheet in captured colour."""

    rgb: NDArray[np.float32]
    """(H, W, 3) captured sRGB in [0, 1]."""

    frame: MarkerFrame
    origin_mm: tuple[float, float]
    """Content-frame (x, y) in mm of the sheet's top-left corner (its cut line)."""

    px_per_mm: float

    def plane_from_sheet(self) -> NDArray[np.float64]:
        """Return the (3, 3) map from sheet px to content-frame mm (z = 0 plane)."""
        step = 1.0 / self.px_per_mm
        left, top = self.origin_mm
        return np.array([[step, 0.0, left + step / 2], [0.0, step, top + step / 2], [0, 0, 1.0]])


def print_sheet(
    patch_rgb: NDArray[np.uint8],
    size_mm: float,
    *,
    px_per_mm: float,
    profile: ColorProfile | None,
) -> PrintedSheet:
    """Draw the sheet of a square patch printed ``size_mm`` mm wide.

    Args:
        patch_rgb: (N, N, 3) patch as printed, transparency over white (``load_patch_rgb``).
        size_mm: printed side of the patch, mm.
        px_per_mm: resolution of the drawn sheet.
        profile: printer+camera colour profile; None keeps digital colour.
    """
    frame = patch_frame(size_mm)
    left, top, right, bottom = frame.cut_bounds_mm()
    width = round((right - left) * px_per_mm)
    height = round((bottom - top) * px_per_mm)
    sheet = np.full((height, width, 3), 255, np.uint8)

    def column(x_mm: float) -> int:
        return round((x_mm - left) * px_per_mm)

    def row(y_mm: float) -> int:
        return round((y_mm - top) * px_per_mm)

    x0, y0, x1, y1 = column(0.0), row(0.0), column(size_mm), row(size_mm)
    shrinking = patch_rgb.shape[0] > x1 - x0
    sheet[y0:y1, x0:x1] = cv2.resize(
        patch_rgb,
        (x1 - x0, y1 - y0),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC,
    )

    # Each marker cell's edges are rounded from mm on their own, so no rounding accumulates.
    for marker_id, corners in frame.object_points().items():
        cells = marker_cells(marker_id)
        cell_mm = frame.marker_mm / MARKER_CELLS
        for cell_row in range(MARKER_CELLS):
            for cell_column in range(MARKER_CELLS):
                x_mm = corners[0, 0] + cell_column * cell_mm
                y_mm = corners[0, 1] + cell_row * cell_mm
                value = 0 if cells[cell_row, cell_column] else 255
                sheet[row(y_mm) : row(y_mm + cell_mm), column(x_mm) : column(x_mm + cell_mm)] = (
                    value
                )

    digital = torch.from_numpy(sheet).permute(2, 0, 1)[None].float() / 255.0
    captured = digital if profile is None else profile.apply(digital)
    rgb = captured[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32)
    return PrintedSheet(rgb=rgb, frame=frame, origin_mm=(left, top), px_per_mm=px_per_mm)


def light_sheet(
    rgb: NDArray[np.float32], contrast: float, brightness: float, gamma: float
) -> NDArray[np.float32]:
    """Apply contrast about mid grey, then added light, then gamma, as patch generation does."""
    lit = np.clip((rgb - 0.5) * contrast + 0.5 + brightness, 1e-4, 1.0)
    return np.asarray(lit**gamma, dtype=np.float32)
