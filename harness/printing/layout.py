"""Page layout of patch sheets: header, body with the patches, footer with the palette.

All boxes are in page mm with the origin at the page's top-left corner and y down.
Patches of several sizes are packed on shelves, largest first. Sizes that do not fit
together go on further pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.errors import InvalidArgumentError
from harness.printing.draw import CROP_LENGTH_MM, CROP_OFFSET_MM
from harness.printing.markers import MarkerFrame, patch_frame
from harness.printing.paper import MARGIN_MM, Paper
from harness.printing.sheet_code import format_mm

HEADER_MM = 30.0
"""Height of the header band: text, ruler and QR code."""

FOOTER_MM = 16.0
"""Height of the footer band: palette swatches and their label."""

BAND_GAP_MM = 4.0
"""Space between the header, the body and the footer."""

BLOCK_GAP_MM = 2.0
"""Space between two patch blocks, outside their cut marks."""

_CROP_REACH_MM = CROP_OFFSET_MM + CROP_LENGTH_MM


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in mm."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """x of the right edge, in mm."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """y of the bottom edge, in mm."""
        return self.top + self.height


@dataclass(frozen=True, kw_only=True)
class PlacedPatch:
    """One patch with its markers at a place on the page."""

    size_mm: float
    """Patch side, in mm."""

    frame: MarkerFrame
    origin: tuple[float, float]
    """Page position of the content frame's origin (the patch's top-left corner), in mm."""

    def cut_box(self) -> Box:
        """Return the cut rectangle on the page."""
        left, top, right, bottom = self.frame.cut_bounds_mm()
        x, y = self.origin
        return Box(x + left, y + top, right - left, bottom - top)


@dataclass(frozen=True, kw_only=True)
class PageLayout:
    """Layout of one page of a patch sheet."""

    paper: Paper
    patches: tuple[PlacedPatch, ...]

    @property
    def header(self) -> Box:
        """Header band: text lines and ruler on the left, QR code on the right."""
        return Box(MARGIN_MM, MARGIN_MM, self.paper.width_mm - 2 * MARGIN_MM, HEADER_MM)

    @property
    def footer(self) -> Box:
        """Footer band: the palette swatches."""
        top = self.paper.height_mm - MARGIN_MM - FOOTER_MM
        return Box(MARGIN_MM, top, self.paper.width_mm - 2 * MARGIN_MM, FOOTER_MM)

    @property
    def sizes_mm(self) -> tuple[float, ...]:
        """Patch sides on this page, in mm, in drawing order."""
        return tuple(patch.size_mm for patch in self.patches)


def body_box(paper: Paper) -> Box:
    """Return the area between header and footer where patches go."""
    top = MARGIN_MM + HEADER_MM + BAND_GAP_MM
    bottom = paper.height_mm - MARGIN_MM - FOOTER_MM - BAND_GAP_MM
    return Box(MARGIN_MM, top, paper.width_mm - 2 * MARGIN_MM, bottom - top)


def block_size_mm(size_mm: float) -> tuple[float, float]:
    """Return (width, height) in mm that a patch of side ``size_mm`` takes, cut marks included."""
    left, top, right, bottom = patch_frame(size_mm).cut_bounds_mm()
    return right - left + 2 * _CROP_REACH_MM, bottom - top + 2 * _CROP_REACH_MM


def largest_size_mm(paper: Paper) -> int:
    """Return the largest whole patch side in mm that fits alone on a page of ``paper``."""
    body = body_box(paper)
    size = int(min(body.width, body.height))
    while size > 1:
        width, height = block_size_mm(size)
        if width <= body.width and height <= body.height:
            return size
        size -= 1
    return 0


def layout_pages(sizes_mm: tuple[float, ...], paper: Paper) -> tuple[PageLayout, ...]:
    """Pack patches onto pages, largest first, in rows that fill the body from the top.

    A patch goes into the first page where it fits at the end of the last row or in a new
    row below it; otherwise it starts a new page.

    Raises:
        InvalidArgumentError: a size is not positive, or does not fit on the paper at all.
    """
    largest = largest_size_mm(paper)
    for size in sizes_mm:
        if not size > 0 or not math.isfinite(size):
            raise InvalidArgumentError(f"--size {format_mm(size)} is invalid: expected mm > 0")
        width, height = block_size_mm(size)
        body = body_box(paper)
        if width > body.width or height > body.height:
            raise InvalidArgumentError(
                f"--size {format_mm(size)} mm does not fit on {paper.label} paper with its "
                f"markers and cut marks: the largest that fits is {largest} mm"
            )

    pages: list[list[list[float]]] = []
    for size in sorted(sizes_mm, reverse=True):
        if not any(_add_to_page(page, size, paper) for page in pages):
            pages.append([[size]])
    return tuple(_place(page, paper) for page in pages)


def _row_size(row: list[float]) -> tuple[float, float]:
    blocks = [block_size_mm(size) for size in row]
    width = sum(block[0] for block in blocks) + BLOCK_GAP_MM * (len(blocks) - 1)
    return width, max(block[1] for block in blocks)


def _page_height(page: list[list[float]]) -> float:
    return sum(_row_size(row)[1] for row in page) + BLOCK_GAP_MM * (len(page) - 1)


def _add_to_page(page: list[list[float]], size: float, paper: Paper) -> bool:
    """Add ``size`` to the last row of ``page`` or to a new row; return whether it fitted."""
    body = body_box(paper)
    last = page[-1]
    if _row_size([*last, size])[0] <= body.width and (
        _page_height([*page[:-1], [*last, size]]) <= body.height
    ):
        last.append(size)
        return True
    if _page_height([*page, [size]]) <= body.height:
        page.append([size])
        return True
    return False


def _place(page: list[list[float]], paper: Paper) -> PageLayout:
    """Turn shelves of sizes into placed patches, each row centred across the body."""
    body = body_box(paper)
    placed: list[PlacedPatch] = []
    top = body.top
    for row in page:
        row_width, row_height = _row_size(row)
        left = body.left + (body.width - row_width) / 2
        for size in row:
            frame = patch_frame(size)
            cut_left, cut_top, _, _ = frame.cut_bounds_mm()
            origin = (left + _CROP_REACH_MM - cut_left, top + _CROP_REACH_MM - cut_top)
            placed.append(PlacedPatch(size_mm=size, frame=frame, origin=origin))
            left += block_size_mm(size)[0] + BLOCK_GAP_MM
        top += row_height + BLOCK_GAP_MM
    return PageLayout(paper=paper, patches=tuple(placed))
