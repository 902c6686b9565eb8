"""Table widths of the report keep words whole, and a source is named once."""

from __future__ import annotations

import pytest
from reportlab.lib.styles import ParagraphStyle

from harness.report.build import _source_text
from harness.report.document import fit_widths
from harness.report.fonts import report_fonts


def _style(lang: str) -> ParagraphStyle:
    return ParagraphStyle("cell", fontName=report_fonts(lang).regular, fontSize=10)


def test_narrow_column_takes_spare_width() -> None:
    # Helvetica advance widths per 1000 em are D 722, i 222, f 278, e 556, r 333, n 556 and
    # c 500, so "Difference" is 45.57 pt at 10 pt and "a" is 5.56 pt. Each cell adds 2 × 6 pt.
    widths = fit_widths([["Difference", "a"]], [30.0, 100.0], _style("en"))

    assert widths[0] == pytest.approx(57.57, abs=0.01)
    assert widths[1] == pytest.approx(72.43, abs=0.01)
    assert sum(widths) == pytest.approx(130.0)


def test_wide_enough_columns_are_kept() -> None:
    widths = fit_widths([["Bits", "Difference"]], [60.0, 70.0], _style("en"))

    assert widths == [60.0, 70.0]


def test_words_exceed_total_when_needed() -> None:
    widths = fit_widths([["Difference", "Difference"]], [10.0, 10.0], _style("en"))

    assert widths == pytest.approx([57.57, 57.57], abs=0.01)


def test_cjk_phrase_keeps_four_characters() -> None:
    # IPAexGothic's kana and kanji are 1 em wide: four of them at 10 pt are 40 pt.
    widths = fit_widths([["パッチあり成功率", "x"]], [20.0, 200.0], _style("ja"))

    assert widths[0] == pytest.approx(52.0, abs=0.01)
    assert sum(widths) == pytest.approx(220.0)


def test_source_kind_named_once() -> None:
    assert _source_text("sim", "sim:printables/abc") == "sim:printables/abc"
    assert _source_text("mjpeg", "http://127.0.0.1:8080/video") == (
        "mjpeg: http://127.0.0.1:8080/video"
    )
