"""Helpers for the print and calibration tests: PDF rasterisation and pixel measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray


def render_pdf(path: Path, dpi: float) -> list[NDArray[np.uint8]]:
    """Return every page of a PDF as an (H, W, 3) RGB array at ``dpi``."""
    document = pdfium.PdfDocument(str(path))
    pages = []
    for index in range(len(document)):
        bitmap = document[index].render(scale=dpi / 72)
        pages.append(np.asarray(bitmap.to_pil().convert("RGB"), dtype=np.uint8))
    document.close()
    return pages


def px_per_mm(dpi: float) -> float:
    """Pixels per mm at ``dpi``."""
    return dpi / 25.4


def mm_to_px(value_mm: float, dpi: float) -> int:
    """Return the pixel index that contains page position ``value_mm``."""
    return int(value_mm * px_per_mm(dpi))


def longest_runs(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Return, per column of a 2-D mask, the length of its longest run of True."""
    longest = np.zeros(mask.shape[1], dtype=np.int64)
    current = np.zeros(mask.shape[1], dtype=np.int64)
    for row in mask:
        current = np.where(row, current + 1, 0)
        longest = np.maximum(longest, current)
    return longest


def column_groups(columns: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Return (first, last) of every run of True in a 1-D mask."""
    groups: list[tuple[int, int]] = []
    start: int | None = None
    for index, value in enumerate(columns):
        if value and start is None:
            start = index
        elif not value and start is not None:
            groups.append((start, index - 1))
            start = None
    if start is not None:
        groups.append((start, len(columns) - 1))
    return groups
