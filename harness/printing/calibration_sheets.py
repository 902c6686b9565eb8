"""Calibration sheets: the ChArUco board for ``calibrate camera`` and the colour chart."""

from __future__ import annotations

from pathlib import Path

from harness.printing import color_chart
from harness.printing.charuco import CharucoSpec
from harness.printing.draw import SheetCanvas
from harness.printing.paper import MARGIN_MM, Paper
from harness.printing.sheet_code import format_mm

HEADER_MM = 26.0
"""Height of a calibration sheet's header: title, two lines of text and the ruler."""

PRINT_AT_100 = (
    "Print at 100 % (actual size), no scaling, no fit to page: the ruler must measure 100 mm."
)


def render_charuco_sheet(path: Path, paper: Paper, spec: CharucoSpec) -> None:
    """Write a one-page PDF with the ChArUco board centred below a header, all vector."""
    canvas = SheetCanvas(path, paper, title="ChArUco calibration board")
    square = format_mm(spec.square_mm)
    _draw_header(
        canvas,
        f"ChArUco board · {spec.squares_x} × {spec.squares_y} squares of {square} mm",
        (
            f"square {square} mm, marker {format_mm(spec.marker_mm)} mm, {spec.dictionary}. "
            f"If a printed square is not {square} mm, pass the measured size as --square-mm.",
            "Show it flat to the camera from many angles and distances: "
            "patch-harness calibrate camera.",
        ),
    )

    left = (paper.width_mm - spec.width_mm) / 2
    top = MARGIN_MM + HEADER_MM + 4
    black = spec.black_squares()
    canvas.cells(left, top, black, spec.square_mm)
    for marker_id, corners in spec.markers():
        canvas.marker_cells_at(
            spec.marker_cells(marker_id), left + corners[0, 0], top + corners[0, 1], spec.marker_mm
        )
    canvas.text(
        left + spec.width_mm,
        top + spec.height_mm + 4,
        f"square {square} mm",
        size_pt=8,
        align="right",
    )
    canvas.show_page()
    canvas.save()


def render_color_chart(path: Path, paper: Paper) -> None:
    """Write a one-page PDF with the colour swatches framed by four ArUco markers."""
    canvas = SheetCanvas(path, paper, title="colour chart")
    count = len(color_chart.swatch_colors())
    _draw_header(
        canvas,
        f"Colour chart · {count} swatches",
        (
            "Print with the printer, paper and settings that you use for patches.",
            "Photograph it flat and evenly lit under the light of your tests, with all four "
            "markers in view: patch-harness calibrate color.",
        ),
    )

    frame = color_chart.chart_markers()
    left = (paper.width_mm - frame.width_mm) / 2
    top = MARGIN_MM + HEADER_MM + 4 + frame.gap_mm + frame.marker_mm
    for index, color in enumerate(color_chart.swatch_colors()):
        x0, y0, x1, y1 = color_chart.swatch_box_mm(index)
        red, green, blue = (float(value) for value in color)
        canvas.fill_rect(left + x0, top + y0, x1 - x0, y1 - y0, (red, green, blue))
    for marker_id, corners in frame.object_points().items():
        canvas.marker(marker_id, left + corners[0, 0], top + corners[0, 1], frame.marker_mm)
    canvas.show_page()
    canvas.save()


def _draw_header(canvas: SheetCanvas, title: str, lines: tuple[str, str]) -> None:
    canvas.text(MARGIN_MM, MARGIN_MM + 4, title, size_pt=11, bold=True)
    for offset, line in enumerate(lines):
        canvas.text(MARGIN_MM, MARGIN_MM + 8.5 + 4 * offset, line, size_pt=8)
    canvas.text(MARGIN_MM, MARGIN_MM + 16.5, PRINT_AT_100, size_pt=8, bold=True)
    canvas.ruler(MARGIN_MM, MARGIN_MM + 19)
