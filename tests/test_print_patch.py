"""Patch PDFs measured from their pixels at 300 dpi: markers, patch size, ruler and QR code."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from numpy.typing import NDArray
from PIL import Image

from harness.cli import main
from harness.errors import InvalidArgumentError
from harness.printing.layout import PageLayout, PlacedPatch, largest_size_mm, layout_pages
from harness.printing.markers import PATCH_MARKER_IDS, detect_markers, patch_frame
from harness.printing.paper import Paper
from harness.printing.patch_sheet import MIN_DPI, upsample_for_print
from harness.printing.sheet_code import SheetCode
from tests.printing_helpers import column_groups, longest_runs, mm_to_px, px_per_mm, render_pdf

DPI = 300
TOLERANCE = 0.005
"""Largest relative error of a printed length."""


@pytest.fixture(scope="module")
def patch_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64 px noise patch whose colours stay far from paper white, so its edges are visible."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(10, 180, size=(64, 64, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("patch") / "noise.png"
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(scope="module")
def a4_sheet(
    patch_png: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[NDArray[np.uint8]]]:
    """A toaster patch at 50 and 100 mm on A4 through the CLI, and its pages at 300 dpi."""
    printables = tmp_path_factory.mktemp("printables")
    code = main(
        [
            "print",
            "--image",
            str(patch_png),
            "--target",
            "toaster",
            "--size",
            "50,100",
            "--printables",
            str(printables),
            "--calibration",
            str(printables / "no-profiles-here"),
        ]
    )
    assert code == 0
    (pdf,) = printables.glob("*/*.pdf")
    return pdf, render_pdf(pdf, DPI)


def _crop(page: NDArray[np.uint8], placed: PlacedPatch) -> tuple[NDArray[np.uint8], int, int]:
    box = placed.cut_box()
    left, top = mm_to_px(box.left, DPI), mm_to_px(box.top, DPI)
    right, bottom = mm_to_px(box.right, DPI), mm_to_px(box.bottom, DPI)
    return page[top:bottom, left:right], left, top


def _a4_layout() -> PageLayout:
    (layout,) = layout_pages((50.0, 100.0), Paper.A4)
    return layout


def test_sheet_written_in_patch_folder(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    pdf, pages = a4_sheet
    folder = pdf.parent
    description = json.loads((folder / "patch.json").read_text())
    assert pdf.name == f"{folder.name}-50-100mm.pdf"
    assert description["id"] == folder.name
    assert description["target"] == {"index": 859, "name": "toaster"}
    assert (folder / "patch.png").is_file()
    assert len(pages) == 1
    # pdfium rounds the page up to whole pixels: 210 mm at 300 dpi is 2480.3 px.
    height, width = pages[0].shape[:2]
    assert abs(height - 297 * px_per_mm(DPI)) < 1
    assert abs(width - 210 * px_per_mm(DPI)) < 1


def test_markers_found_for_each_patch(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    _, (page,) = a4_sheet
    for placed in _a4_layout().patches:
        crop, _, _ = _crop(page, placed)
        found = detect_markers(crop, PATCH_MARKER_IDS)
        assert sorted(found) == list(PATCH_MARKER_IDS), f"{placed.size_mm} mm patch"


def test_patch_edge_from_markers(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    _, (page,) = a4_sheet
    scale = px_per_mm(DPI)
    for placed in _a4_layout().patches:
        crop, _, _ = _crop(page, placed)
        found = detect_markers(crop, PATCH_MARKER_IDS)
        top_left, top_right, bottom_right, bottom_left = (found[i] for i in PATCH_MARKER_IDS)

        # The outer sides of the markers line up with the patch's left and right edges.
        top_edge = np.linalg.norm(top_right[1] - top_left[0]) / scale
        bottom_edge = np.linalg.norm(bottom_right[2] - bottom_left[3]) / scale
        # The top markers' lower edge and the bottom markers' upper edge are one gap away.
        frame = placed.frame
        left_side = np.linalg.norm(bottom_left[0] - top_left[3]) / scale - 2 * frame.gap_mm
        for measured in (top_edge, bottom_edge, left_side):
            error = abs(measured - placed.size_mm) / placed.size_mm
            assert error < TOLERANCE, f"{placed.size_mm} mm patch measured {measured:.3f} mm"


def test_patch_pixels_span_requested_size(
    a4_sheet: tuple[Path, list[NDArray[np.uint8]]],
) -> None:
    _, (page,) = a4_sheet
    scale = px_per_mm(DPI)
    for placed in _a4_layout().patches:
        x, y = placed.origin
        gap = placed.frame.gap_mm
        # Look between the marker rows, half a gap beyond the patch on every side.
        rows = slice(mm_to_px(y - gap / 2, DPI), mm_to_px(y + placed.size_mm + gap / 2, DPI))
        columns = slice(mm_to_px(x - gap / 2, DPI), mm_to_px(x + placed.size_mm + gap / 2, DPI))
        inked = page[rows, columns].min(axis=2) < 235
        filled_columns = np.flatnonzero(inked.any(axis=0))
        filled_rows = np.flatnonzero(inked.any(axis=1))
        width = (filled_columns[-1] - filled_columns[0] + 1) / scale
        height = (filled_rows[-1] - filled_rows[0] + 1) / scale
        assert abs(width - placed.size_mm) / placed.size_mm < TOLERANCE, f"width {width:.3f} mm"
        assert abs(height - placed.size_mm) / placed.size_mm < TOLERANCE, f"height {height:.3f}"


def test_ruler_measures_100_mm(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    _, (page,) = a4_sheet
    header = _a4_layout().header
    # The ruler is the only thing left of the QR code with 5 mm vertical strokes; text is
    # under 3 mm tall.
    rows = slice(mm_to_px(header.top, DPI), mm_to_px(header.bottom, DPI))
    columns = slice(mm_to_px(header.left - 3, DPI), mm_to_px(header.left + 115, DPI))
    dark = page[rows, columns].min(axis=2) < 128
    long_ticks = longest_runs(dark) >= 4.25 * px_per_mm(DPI)
    centres = [(first + last) / 2 for first, last in column_groups(long_ticks)]

    assert len(centres) == 11, centres
    length = (centres[-1] - centres[0]) / px_per_mm(DPI)
    assert abs(length - 100.0) / 100.0 < TOLERANCE, f"ruler measures {length:.3f} mm"
    spacing = np.diff(centres) / px_per_mm(DPI)
    assert np.allclose(spacing, 10.0, atol=0.1), spacing


def test_qr_code_decodes_to_patch_id(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    pdf, (page,) = a4_sheet
    header = _a4_layout().header
    corner = page[: mm_to_px(header.bottom + 2, DPI), mm_to_px(header.right - 40, DPI) :]
    # OpenCV's classic detector misses some codes that print fine, so its ArUco-based
    # detector gets a second look (both ship with opencv-python 4.8 and later).
    text = cv2.QRCodeDetector().detectAndDecode(corner)[0]
    text = text or cv2.QRCodeDetectorAruco().detectAndDecode(corner)[0]
    code = SheetCode.decode(text)
    assert code.patch_id == pdf.parent.name
    assert code.target_index == 859
    assert code.sizes_mm == (100.0, 50.0)


def test_image_embedded_at_300_dpi(a4_sheet: tuple[Path, list[NDArray[np.uint8]]]) -> None:
    pdf, _ = a4_sheet
    document = pdfium.PdfDocument(str(pdf))
    images = list(document[0].get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)))
    assert len(images) == 2
    for image in images:
        width_px, _ = image.get_px_size()
        left, _, right, _ = image.get_bounds()
        dpi = width_px / ((right - left) / 72)
        assert dpi >= MIN_DPI

        # The 64 px noise was upsampled smoothly: nearest neighbour would keep only its
        # 64 distinct columns of values, a smooth filter makes new ones in between.
        pixels = np.asarray(image.get_bitmap().to_pil().convert("RGB"))
        row = pixels[pixels.shape[0] // 2, :, 0]
        assert len(np.unique(row)) > 128
        assert np.abs(np.diff(row.astype(int))).max() < 60
    document.close()


def test_upsample_keeps_large_images() -> None:
    large = np.zeros((1200, 1200, 3), dtype=np.uint8)
    assert upsample_for_print(large, 100.0) is large
    small = np.zeros((10, 10, 3), dtype=np.uint8)
    assert upsample_for_print(small, 100.0).shape == (1182, 1182, 3)


def test_sizes_spread_over_pages() -> None:
    pages = layout_pages((50.0, 100.0, 150.0), Paper.A4)
    assert [page.sizes_mm for page in pages] == [(150.0,), (100.0, 50.0)]
    for page in pages:
        boxes = [placed.cut_box() for placed in page.patches]
        for first, second in itertools.pairwise(boxes):
            assert first.right <= second.left or first.bottom <= second.top


@pytest.mark.parametrize("paper", list(Paper))
def test_largest_size_fits_alone(paper: Paper) -> None:
    largest = largest_size_mm(paper)
    assert largest >= 150
    (page,) = layout_pages((float(largest),), paper)
    box = page.patches[0].cut_box()
    assert box.left >= 8
    assert box.right <= paper.width_mm - 8
    assert box.bottom <= page.footer.top
    with pytest.raises(InvalidArgumentError, match="largest that fits"):
        layout_pages((largest + 1.0,), paper)


def test_marker_corners_follow_convention() -> None:
    frame = patch_frame(100.0)
    top_left = frame.marker_corners_mm(PATCH_MARKER_IDS[0])
    bottom_right = frame.marker_corners_mm(PATCH_MARKER_IDS[2])
    gap, side = frame.gap_mm, frame.marker_mm
    assert top_left.tolist()[0] == [0.0, -gap - side, 0.0]
    assert top_left.tolist()[2] == [side, -gap, 0.0]
    assert bottom_right.tolist()[0] == [100.0 - side, 100.0 + gap, 0.0]
    assert bottom_right.tolist()[2] == [100.0, 100.0 + gap + side, 0.0]
    assert frame.content_corners_mm()[2].tolist() == [100.0, 100.0, 0.0]
