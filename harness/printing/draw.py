"""Vector drawing on a PDF page in page millimetres (origin top-left, y down).

reportlab places things in points from the bottom-left corner. This module is the only
place that converts, so the layouts above it think in mm as printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from reportlab import rl_config
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from harness.printing.markers import marker_cells
from harness.printing.paper import Paper

RGB = tuple[float, float, float]
"""A colour as (red, green, blue) in [0, 1]."""

BLACK: RGB = (0.0, 0.0, 0.0)

RULER_MM = 100.0
"""Length of the printed ruler, in mm."""

CROP_OFFSET_MM = 1.5
"""Distance from a cut corner to the start of its cut marks, in mm."""

CROP_LENGTH_MM = 4.0
"""Length of one cut mark, in mm."""

QR_QUIET_MODULES = 4
"""White modules around a QR code (its quiet zone); the QR code standard sets 4."""


class SheetCanvas:
    """A PDF file whose pages are drawn in page mm with the origin at the top-left corner."""

    def __init__(self, path: Path, paper: Paper, *, title: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.paper = paper
        # invariant: no creation timestamp in the file, so one input gives one byte sequence.
        self._canvas = Canvas(
            str(path),
            pagesize=(paper.width_mm * mm, paper.height_mm * mm),
            pageCompression=1,
            invariant=1,
        )
        self._canvas.setTitle(title)
        self._canvas.setAuthor("patch-harness")

    def _point(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return x_mm * mm, (self.paper.height_mm - y_mm) * mm

    def fill_rect(self, left: float, top: float, width: float, height: float, color: RGB) -> None:
        """Fill a rectangle given by its top-left corner and size in mm."""
        self._canvas.setFillColorRGB(*color)
        x, y = self._point(left, top + height)
        self._canvas.rect(x, y, width * mm, height * mm, stroke=0, fill=1)

    def line(self, start: tuple[float, float], end: tuple[float, float], width: float) -> None:
        """Draw a black line of ``width`` mm with butt caps between two points in mm."""
        self._canvas.setStrokeColorRGB(*BLACK)
        self._canvas.setLineWidth(width * mm)
        self._canvas.setLineCap(0)
        self._canvas.line(*self._point(*start), *self._point(*end))

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        *,
        size_pt: float,
        bold: bool = False,
        align: Literal["left", "centre", "right"] = "left",
    ) -> None:
        """Write one line of black Helvetica text; ``x`` is its left, centre or right end."""
        self._canvas.setFillColorRGB(*BLACK)
        self._canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size_pt)
        x_pt, y_pt = self._point(x, baseline)
        if align == "centre":
            self._canvas.drawCentredString(x_pt, y_pt, text)
        elif align == "right":
            self._canvas.drawRightString(x_pt, y_pt, text)
        else:
            self._canvas.drawString(x_pt, y_pt, text)

    def cells(self, left: float, top: float, cells: NDArray[np.bool_], cell_mm: float) -> None:
        """Fill the True cells of a grid black, as one path so that adjacent cells show no seam.

        Row 0 of ``cells`` is drawn at ``top`` and column 0 at ``left``, both in mm.
        """
        path = self._canvas.beginPath()
        rows, columns = cells.shape
        for row in range(rows):
            column = 0
            while column < columns:
                if not cells[row, column]:
                    column += 1
                    continue
                # One rectangle per horizontal run of black cells keeps the path short.
                end = column
                while end < columns and cells[row, end]:
                    end += 1
                x, y = self._point(left + column * cell_mm, top + (row + 1) * cell_mm)
                path.rect(x, y, (end - column) * cell_mm * mm, cell_mm * mm)
                column = end
        self._canvas.setFillColorRGB(*BLACK)
        self._canvas.drawPath(path, stroke=0, fill=1)

    def marker(self, marker_id: int, left: float, top: float, side: float) -> None:
        """Draw patch marker ``marker_id`` with its top-left corner at (left, top), in mm."""
        self.marker_cells_at(marker_cells(marker_id), left, top, side)

    def marker_cells_at(
        self, cells: NDArray[np.bool_], left: float, top: float, side: float
    ) -> None:
        """Draw a square marker given by its cells into a ``side`` mm square at (left, top)."""
        self.cells(left, top, cells, side / cells.shape[0])

    def qr_code(self, text: str, left: float, top: float, side: float) -> None:
        """Draw a QR code of ``text`` in a square of ``side`` mm, quiet zone included."""
        code = QRCode(None, QRErrorCorrectLevel.M)
        code.addData(text)
        code.make()
        count = code.getModuleCount()  # type: ignore[no-untyped-call]
        modules = np.array(
            [
                [bool(code.isDark(row, column)) for column in range(count)]  # type: ignore[no-untyped-call]
                for row in range(count)
            ]
        )
        module_mm = side / (count + 2 * QR_QUIET_MODULES)
        inset = QR_QUIET_MODULES * module_mm
        self.cells(left + inset, top + inset, modules, module_mm)

    def image(self, pixels: NDArray[np.uint8], left: float, top: float, side: float) -> None:
        """Embed an (H, W, 3) RGB image losslessly into a ``side`` mm square at (left, top)."""
        x, y = self._point(left, top + side)
        reader = ImageReader(Image.fromarray(pixels))
        with _binary_streams():
            self._canvas.drawImage(reader, x, y, width=side * mm, height=side * mm)

    def ruler(self, left: float, top: float) -> None:
        """Draw a 100 mm ruler: baseline at ``top``, ticks below it every mm, labels every 10 mm.

        Ticks are 2 mm long, 3.5 mm every 5 mm and 5 mm every 10 mm, 0.2 mm wide.
        """
        width = 0.2
        self.line((left, top), (left + RULER_MM, top), width)
        for position in range(int(RULER_MM) + 1):
            length = 2.0
            if position % 10 == 0:
                length = 5.0
            elif position % 5 == 0:
                length = 3.5
            x = left + position
            self.line((x, top), (x, top + length), width)
            if position % 10 == 0:
                label = f"{position} mm" if position == RULER_MM else str(position)
                self.text(x, top + 7.5, label, size_pt=6, align="centre")

    def crop_marks(self, bounds: tuple[float, float, float, float]) -> None:
        """Draw cut marks outside the corners of ``bounds`` (left, top, right, bottom) in mm."""
        left, top, right, bottom = bounds
        width = 0.15
        for x, x_out in ((left, -1.0), (right, 1.0)):
            for y, y_out in ((top, -1.0), (bottom, 1.0)):
                near, far = CROP_OFFSET_MM, CROP_OFFSET_MM + CROP_LENGTH_MM
                self.line((x + x_out * near, y), (x + x_out * far, y), width)
                self.line((x, y + y_out * near), (x, y + y_out * far), width)

    def swatches(
        self,
        colors: Sequence[RGB],
        left: float,
        top: float,
        width: float,
        *,
        rows: int,
        height: float,
    ) -> None:
        """Fill ``rows`` rows of equal swatches into a ``width`` × ``height`` mm box, row first."""
        columns = -(-len(colors) // rows)
        pitch_x, pitch_y = width / columns, height / rows
        for index, color in enumerate(colors):
            row, column = divmod(index, columns)
            x, y = left + column * pitch_x, top + row * pitch_y
            self.fill_rect(x, y, pitch_x * 0.85, pitch_y * 0.85, color)

    def show_page(self) -> None:
        """Finish the current page and start a new one."""
        with _binary_streams():
            self._canvas.showPage()

    def save(self) -> None:
        """Write the PDF file."""
        with _binary_streams():
            self._canvas.save()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Turn off reportlab's ASCII85 stream encoding for a while.

    ASCII85 makes every stream 25 % larger, which is megabytes for a patch image at
    300 dpi. reportlab reads the switch from its global ``rl_config`` when it encodes an
    image or a page, so it is set around those calls and restored after.
    """
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous
