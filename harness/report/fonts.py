"""Fonts of the report: Helvetica for English, IPAexGothic for Japanese.

IPAexGothic (IPA Font License v1.0) ships inside the PyPI package ``japanize-matplotlib``
1.1.3 as ``fonts/ipaexg.ttf``. Only the file is used: importing that package would change
matplotlib's global font settings. It is a TrueType font with glyf outlines, which
reportlab can subset and embed; the CFF-based Noto CJK fonts it cannot.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.errors import DataError

JAPANESE_FONT = "IPAexGothic"
_PACKAGE = "japanize_matplotlib"
_FILE = Path("fonts") / "ipaexg.ttf"


@dataclass(frozen=True)
class ReportFonts:
    """Font names registered with reportlab, and the file for matplotlib (None: its default)."""

    regular: str
    bold: str
    path: Path | None


def japanese_font_path() -> Path:
    """Return the path of ``ipaexg.ttf``.

    Raises:
        DataError: the package ``japanize-matplotlib`` is not installed.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / _FILE
        if path.is_file():
            return path
    raise DataError(
        "the Japanese font IPAexGothic is not installed: pip install japanize-matplotlib==1.1.3 "
        "(it ships ipaexg.ttf)"
    )


@cache
def report_fonts(lang: str) -> ReportFonts:
    """Register the fonts of ``lang`` (``en`` or ``ja``) with reportlab; return their names.

    Raises:
        DataError: the Japanese font is missing.
    """
    if lang != "ja":
        return ReportFonts(regular="Helvetica", bold="Helvetica-Bold", path=None)

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = japanese_font_path()
    pdfmetrics.registerFont(TTFont(JAPANESE_FONT, str(path)))
    # IPAexGothic has no bold face; headings use the same face at a larger size.
    return ReportFonts(regular=JAPANESE_FONT, bold=JAPANESE_FONT, path=path)
