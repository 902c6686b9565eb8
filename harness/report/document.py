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
    """Return a table with a header row; rows listed in ``highlight`` get a red tint."""
    cells = [[paragraph(value, styles.cell) for value in row] for row in rows]
    result = Table(cells, colWidths=list(widths) if widths else None, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.9, 0.94)),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.7, 0.7, 0.7)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for row in highlight:
        commands.append(("BACKGROUND", (0, row), (-1, row), colors.Color(1.0, 0.9, 0.9)))
    result.setStyle(TableStyle(commands))
    return result


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
