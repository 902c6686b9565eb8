"""The patch PDF: each patch at its exact size in mm, framed by markers, with cut marks.

Every page also carries a 100 mm ruler with the instruction to print at 100 %, the patch id,
target and dates as text and as a QR code, and swatches of the printable palette.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from harness.printing.draw import RGB, SheetCanvas
from harness.printing.layout import PageLayout, PlacedPatch
from harness.printing.patchfile import PatchInfo
from harness.printing.sheet_code import SheetCode, format_mm

MIN_DPI = 300
"""Minimum resolution of the embedded patch image, in pixels per inch on paper."""

MAX_PALETTE_SWATCHES = 180
"""Most palette swatches drawn in the footer; a larger palette is shown by an even subset."""

QR_MM = 28.0
"""Side of the QR code, quiet zone included, in mm."""


@dataclass(frozen=True, kw_only=True)
class PatchSheetSettings:
    """Dates and palette printed on a patch sheet."""

    printed: str
    """Print date, ISO 8601 (YYYY-MM-DD)."""

    palette: NDArray[np.float64]
    """(P, 3) printable colours in [0, 1], shown as swatches."""

    profile_name: str
    """Name of the colour profile that the palette comes from."""

    generic_profile: bool
    """Whether that profile is the generic one rather than a measurement."""


def upsample_for_print(pixels: NDArray[np.uint8], size_mm: float) -> NDArray[np.uint8]:
    """Return the patch at ``MIN_DPI`` or more for a side of ``size_mm`` mm.

    An image with fewer pixels is upsampled with a Lanczos filter, which interpolates
    smoothly. Nearest-neighbour upsampling would print visible pixel blocks whose edges the
    patch was never optimised for. A large enough image is returned unchanged.
    """
    needed = math.ceil(size_mm / 25.4 * MIN_DPI)
    if pixels.shape[0] >= needed:
        return pixels
    image = Image.fromarray(pixels).resize((needed, needed), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def render_patch_sheet(
    path: Path,
    patch: PatchInfo,
    pixels: NDArray[np.uint8],
    pages: tuple[PageLayout, ...],
    settings: PatchSheetSettings,
) -> None:
    """Write the pages of a patch sheet to ``path``.

    Args:
        path: PDF file to write; its folder is created.
        patch: the patch folder's description.
        pixels: (N, N, 3) RGB patch as printed, see ``load_patch_rgb``.
        pages: layouts from ``layout_pages``, one per page.
        settings: dates and palette.
    """
    largest = max(size for page in pages for size in page.sizes_mm)
    # One image at the resolution of the largest size serves every size: smaller prints of
    # it only have more pixels per inch.
    printable = upsample_for_print(pixels, largest)

    canvas = SheetCanvas(path, pages[0].paper, title=f"patch {patch.patch_id}")
    for number, page in enumerate(pages, start=1):
        code = SheetCode(
            patch_id=patch.patch_id,
            target_index=None if patch.target is None else patch.target.index,
            printed=settings.printed,
            sizes_mm=page.sizes_mm,
        )
        _draw_header(canvas, page, patch, settings, code, (number, len(pages)))
        for placed in page.patches:
            _draw_patch(canvas, placed, printable, patch.patch_id)
        _draw_palette(canvas, page, settings)
        canvas.show_page()
    canvas.save()


def _draw_header(
    canvas: SheetCanvas,
    page: PageLayout,
    patch: PatchInfo,
    settings: PatchSheetSettings,
    code: SheetCode,
    page_number: tuple[int, int],
) -> None:
    header = page.header
    sizes = ", ".join(format_mm(size) for size in page.sizes_mm)
    number, total = page_number
    page_text = f" · page {number} of {total}" if total > 1 else ""
    lines = (
        f"target: {patch.target_text}",
        f"created {patch.created[:10]} · printed {settings.printed} · "
        f"{sizes} mm on {page.paper.label}{page_text}",
    )
    canvas.text(header.left, header.top + 4, f"patch {patch.patch_id}", size_pt=11, bold=True)
    for offset, line in enumerate(lines):
        canvas.text(header.left, header.top + 8.5 + 4 * offset, line, size_pt=8)
    canvas.text(
        header.left,
        header.top + 16.5,
        "Print at 100 % (actual size), no scaling, no fit to page: the ruler must measure 100 mm.",
        size_pt=8,
        bold=True,
    )
    canvas.ruler(header.left, header.top + 20)
    canvas.qr_code(code.encode(), header.right - QR_MM, header.top, QR_MM)


def _draw_patch(
    canvas: SheetCanvas, placed: PlacedPatch, printable: NDArray[np.uint8], patch_id: str
) -> None:
    frame = placed.frame
    x, y = placed.origin
    canvas.image(printable, x, y, placed.size_mm)
    for marker_id, corners in frame.object_points().items():
        canvas.marker(marker_id, x + corners[0, 0], y + corners[0, 1], frame.marker_mm)

    # Labels sit in the white bands between the markers, centred over the patch.
    label_pt = 7.0 if placed.size_mm >= 60 else 6.0
    band = frame.gap_mm + frame.marker_mm / 2
    centre = x + placed.size_mm / 2
    canvas.text(
        centre, y - band + 1, f"{format_mm(placed.size_mm)} mm", size_pt=label_pt, align="centre"
    )
    canvas.text(centre, y + placed.size_mm + band + 1, patch_id, size_pt=label_pt, align="centre")

    cut = placed.cut_box()
    canvas.crop_marks((cut.left, cut.top, cut.right, cut.bottom))


def _draw_palette(canvas: SheetCanvas, page: PageLayout, settings: PatchSheetSettings) -> None:
    footer = page.footer
    palette = settings.palette
    shown = palette
    if len(palette) > MAX_PALETTE_SWATCHES:
        picks = np.linspace(0, len(palette) - 1, MAX_PALETTE_SWATCHES).round().astype(int)
        shown = palette[picks]
    kind = "generic, not measured" if settings.generic_profile else "measured"
    subset = f", {len(shown)} shown" if len(shown) < len(palette) else ""
    canvas.text(
        footer.left,
        footer.top + 3,
        f"printable palette of colour profile {settings.profile_name!r} ({kind}): "
        f"{len(palette)} colours{subset}",
        size_pt=7,
    )
    colors: list[RGB] = [(float(r), float(g), float(b)) for r, g, b in shown]
    canvas.swatches(
        colors, footer.left, footer.top + 4.5, footer.width, rows=3, height=footer.height - 4.5
    )
