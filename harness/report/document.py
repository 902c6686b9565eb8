"""The PDF itself: reportlab platypus flowables for text, tables, figures and examples.

Pages are A4 portrait with 18 mm margins. Text uses the fonts of :mod:`harness.report.fonts`,
so a Japanese report embeds a subset of IPAexGothic with every glyph it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from harness.report.fonts import ReportFonts

MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN

CELL_PADDING = 6.0
"""reportlab's default left and right padding of a table cell, pt."""

NO_BREAK_SPACE = "\u00a0"

MIN_CJK_CHARACTERS = 4
"""A CJK phrase may break between characters, but keeps at least this many on a line."""


@dataclass(frozen=True)
class Styles:
    """Paragraph styles in the report's font."""

    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    warning: ParagraphStyle


def make_styles(fonts: ReportFonts) -> Styles:
    """Return the report's paragraph styles."""
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=13.5)
    return Styles(
        title=ParagraphStyle(
            "title", parent=body, fontName=fonts.bold, fontSize=18, leading=24, spaceAfter=4
        ),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=fonts.bold,
            fontSize=13,
            leading=17,
            spaceBefore=10,
            spaceAfter=5,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        cell=ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9.5),
        warning=ParagraphStyle("warning", parent=body, textColor=colors.firebrick),
    )


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """Return a paragraph of plain text (markup characters are escaped)."""
    return Paragraph(escape(text), style)


def table(
    rows: Sequence[Sequence[str]],
    styles: Styles,
    widths: Sequence[float] | None = None,
    highlight: Sequence[int] = (),
) -> Table:
    """Return a table with a header row; rows listed in ``highlight`` get a red tint.

    ``widths`` are the preferred column widths in pt; :func:`fit_widths` widens a column
    whose longest word would not fit.
    """
    # A no-break space keeps each percent sign on the line of its number.
    rows = [[value.replace(" %", NO_BREAK_SPACE + "%") for value in row] for row in rows]
    cells = [[paragraph(value, styles.cell) for value in row] for row in rows]
    fitted = fit_widths(rows, widths, styles.cell) if widths else None
    result = Table(cells, colWidths=fitted, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.9, 0.94)),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.7, 0.7, 0.7)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for row in highlight:
        commands.append(("BACKGROUND", (0, row), (-1, row), colors.Color(1.0, 0.9, 0.9)))
    result.setStyle(TableStyle(commands))
    return result


def fit_widths(
    rows: Sequence[Sequence[str]], preferred: Sequence[float], style: ParagraphStyle
) -> list[float]:
    """Return column widths (pt) close to ``preferred`` in which no word breaks.

    A column narrower than its longest word (a Latin word whole, a CJK phrase up to
    :data:`MIN_CJK_CHARACTERS`) is widened. The columns that can spare width give it up in
    proportion to their spare width. So the total stays ``sum(preferred)`` unless the
    words alone need more.
    """
    minimums = [
        max(_word_width(word, style) for row in rows for word in row[column].split(" ") or [""])
        + 2 * CELL_PADDING
        for column in range(len(preferred))
    ]
    widths = [max(width, minimum) for width, minimum in zip(preferred, minimums, strict=True)]

    excess = sum(widths) - sum(preferred)
    spare = [width - minimum for width, minimum in zip(widths, minimums, strict=True)]
    room = sum(spare)
    if excess <= 0 or room <= 0:
        return widths
    fraction = min(1.0, excess / room)
    return [width - share * fraction for width, share in zip(widths, spare, strict=True)]


def _word_width(word: str, style: ParagraphStyle) -> float:
    if any(_is_cjk(character) for character in word):
        word = word[:MIN_CJK_CHARACTERS]
    return float(stringWidth(word, style.fontName, style.fontSize))


def _is_cjk(character: str) -> bool:
    # Kana, CJK ideographs and full-width forms all lie at U+3000 and above.
    return ord(character) >= 0x3000


def figure(path: Path, width: float = CONTENT_WIDTH) -> Image:
    """Return a PNG or JPEG figure scaled to ``width`` points, keeping its aspect ratio."""
    image = Image(str(path))
    scale = width / image.imageWidth
    image.drawWidth = width
    image.drawHeight = image.imageHeight * scale
    return image


def build_pdf(path: Path, story: list[Flowable], *, title: str, fonts: ReportFonts) -> None:
    """Write the flowables to ``path`` as an A4 PDF with page numbers."""

    def number_page(canvas: object, document: SimpleDocTemplate) -> None:
        from reportlab.pdfgen.canvas import Canvas

        if isinstance(canvas, Canvas):
            canvas.setFont(fonts.regular, 8)
            canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"{document.page}")

    partial = path.with_name(path.name + ".partial")
    document = SimpleDocTemplate(
        str(partial),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="patch-harness",
        invariant=1,
    )
    document.build(story, onFirstPage=number_page, onLaterPages=number_page)
    partial.replace(path)
