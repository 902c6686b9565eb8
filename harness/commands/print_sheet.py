"""``patch-harness print``: patch sheets at exact sizes and the calibration sheets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path

from harness.calibration.color import DEFAULT_NAME, load_color_profile
from harness.errors import InvalidArgumentError
from harness.printing.calibration_sheets import render_charuco_sheet, render_color_chart
from harness.printing.charuco import CharucoSpec
from harness.printing.layout import layout_pages
from harness.printing.paper import Paper
from harness.printing.patch_sheet import PatchSheetSettings, render_patch_sheet
from harness.printing.patchfile import (
    PatchInfo,
    PatchTarget,
    import_patch_image,
    load_patch_rgb,
    read_patch,
)
from harness.printing.sheet_code import format_mm

logger = logging.getLogger(__name__)

SHEETS_FOLDER = "sheets"
"""Folder under the printables root for calibration sheets."""


class SheetKind(Enum):
    """A calibration sheet; the value is its CLI name."""

    CHARUCO = "charuco"
    COLOR_CHART = "colour-chart"

    @classmethod
    def parse(cls, text: str) -> SheetKind:
        """Turn ``charuco``, ``colour-chart`` or ``color-chart`` into a sheet kind.

        Raises:
            InvalidArgumentError: another name.
        """
        key = text.strip().lower().replace("color", "colour").replace("_", "-")
        for kind in cls:
            if kind.value == key:
                return kind
        raise InvalidArgumentError(
            f"--sheet {text!r} is unknown: expected charuco or colour-chart (color-chart)"
        )


@dataclass(frozen=True, kw_only=True)
class PatchPrintRequest:
    """Patch, sizes and paper of one patch sheet."""

    patch_id: str | None = None
    """Folder name under ``printables``; None when ``image`` is given."""

    image: Path | None = None
    """A patch PNG made elsewhere, imported under its content-hash id."""

    target: PatchTarget | None = None
    """Target of ``image``; None for untargeted."""

    sizes_mm: tuple[float, ...] = (100.0,)
    """Patch sides to print, in mm."""

    paper: Paper = Paper.A4
    printables: Path = Path("printables")
    """Root folder of patch folders."""

    color_profile: str = DEFAULT_NAME
    """Profile name in ``calibration_dir`` or a path; its palette is printed."""

    calibration_dir: Path = Path("calibration")
    printed: date | None = None
    """Print date on the sheet (today when None)."""


@dataclass(frozen=True)
class PrintResult:
    """Output of ``print_patch``."""

    path: Path
    patch_id: str
    pages: int


def print_patch(request: PatchPrintRequest) -> PrintResult:
    """Write ``printables/<id>/<id>-<sizes>mm.pdf`` for a patch folder or an imported PNG.

    Raises:
        InvalidArgumentError: neither or both of ``patch_id`` and ``image``, or a size that
            does not fit on the paper.
        DataError: the patch folder or image is missing or unreadable.
        ProfileError: the colour profile is missing or invalid.
    """
    if request.patch_id is not None and request.image is not None:
        raise InvalidArgumentError("name either PATCH_ID or --image FILE, not both")

    # Check everything that can fail before an imported image creates its folder.
    pages = layout_pages(request.sizes_mm, request.paper)
    profile = load_color_profile(request.color_profile, request.calibration_dir)
    patch = _open_patch(request)
    pixels = load_patch_rgb(patch)

    sizes = "-".join(format_mm(size) for size in request.sizes_mm)
    path = patch.folder / f"{patch.patch_id}-{sizes}mm.pdf"
    settings = PatchSheetSettings(
        printed=(request.printed or date.today()).isoformat(),
        palette=profile.palette_rgb,
        profile_name=profile.name,
        generic_profile=profile.generic,
    )
    logger.info("rendering %d page(s) of patch %s", len(pages), patch.patch_id)
    render_patch_sheet(path, patch, pixels, pages, settings)
    return PrintResult(path=path, patch_id=patch.patch_id, pages=len(pages))


def _open_patch(request: PatchPrintRequest) -> PatchInfo:
    if request.image is not None:
        patch = import_patch_image(request.image, request.target, request.printables)
        logger.info("imported %s as patch %s", request.image, patch.patch_id)
        return patch
    if request.patch_id is not None:
        return read_patch(request.printables, request.patch_id)
    raise InvalidArgumentError("name a PATCH_ID, an --image FILE or a --sheet to print")


def print_calibration_sheet(
    kind: SheetKind, paper: Paper, printables: Path, board: CharucoSpec
) -> Path:
    """Write a calibration sheet to ``printables/sheets/`` and return its path."""
    folder = printables / SHEETS_FOLDER
    if kind is SheetKind.CHARUCO:
        path = folder / f"charuco-{paper.value}.pdf"
        render_charuco_sheet(path, paper, board)
    else:
        path = folder / f"colour-chart-{paper.value}.pdf"
        render_color_chart(path, paper)
    return path
