"""``report`` on a session that ``live`` recorded and ``score`` scored: real PDFs, rasterised.

Pages are rendered and their text extracted with pdfium. The Japanese report's font is
checked in the file and against every character of the report's strings.
"""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import string
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
import torch
from fontTools.ttLib import TTFont

from harness.report.fonts import japanese_font_path
from harness.report.strings import STRINGS, Language
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.score_helpers import record_session

torch.set_num_threads(1)

JAPANESE_HEADINGS = [value for key, value in STRINGS[Language.JA].items() if key.startswith("h_")]


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, variant_cache: Path) -> Path:
    """A recorded session with one score run named ``test``."""
    session = record_session(tmp_path_factory.mktemp("recorded"), variant_cache)
    code = score(session, variant_cache)
    assert code == 0
    return session


def score(session: Path, cache: Path) -> int:
    from harness.cli import main

    return main(
        [
            "score",
            str(session),
            "--quiet",
            "--variants",
            "efficientnet-lite0@32,int8",
            "--agreement-images",
            "4",
            "--cache-dir",
            str(cache),
            "--run",
            "test",
        ]
    )


@pytest.fixture
def session(scored: Path, tmp_path: Path) -> Path:
    """A copy of the scored session that a test may change."""
    copy = tmp_path / scored.name
    shutil.copytree(scored, copy)
    return copy


def pages_text(path: Path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    texts = [page.get_textpage().get_text_range() for page in document]
    document.close()
    return texts


def text_fonts(path: Path) -> set[tuple[str, bool]]:
    """Return (base font name, embedded) of the fonts of every text object in a PDF."""
    fonts = set()
    document = pdfium.PdfDocument(str(path))
    for page in document:
        for item in page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_TEXT]):
            font = pdfium_raw.FPDFTextObj_GetFont(item.raw)
            size = pdfium_raw.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(size)
            pdfium_raw.FPDFFont_GetBaseFontName(font, name, size)
            embedded = bool(pdfium_raw.FPDFFont_GetIsEmbedded(font))
            fonts.add((name.value.decode(), embedded))
    document.close()
    return fonts


def check_pages_have_content(path: Path) -> int:
    """Render every page; each must have text and ink beyond the page number."""
    document = pdfium.PdfDocument(str(path))
    assert len(document) >= 2
    for number, page in enumerate(document, start=1):
        pixels = np.asarray(page.render(scale=0.5).to_pil().convert("L"))
        inked = float((pixels < 200).mean())
        assert inked > 0.01, f"page {number} of {path.name} is nearly blank ({inked:.4f})"
        # At least a heading beside the page number; figures are images, not text.
        assert len(page.get_textpage().get_text_range().strip()) > 8, number
    pages = len(document)
    document.close()
    return pages


def test_english_report(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["report", str(session)], capsys)

    assert code == 0
    pdf = session / "report.pdf"
    assert f"wrote {pdf}" in out
    check_pages_have_content(pdf)
    text = " ".join(pages_text(pdf))
    for heading in ("Conclusion", "Summary by bit width", "Session", "Example frames"):
        assert heading in text
    assert "efficientnet-lite0@int8" in text
    assert "Nothing was skipped" in text
    for figure in ("bits.png", "conditions.png", "heatmap.png", "example-patch.jpg"):
        assert (session / "report-plots" / figure).is_file()


def test_japanese_report_fonts(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run_cli(["report", str(session), "--lang", "ja"], capsys)

    assert code == 0
    pdf = session / "report-ja.pdf"
    check_pages_have_content(pdf)
    text = "".join(pages_text(pdf))
    for heading in JAPANESE_HEADINGS:
        if heading in (STRINGS[Language.JA]["h_sessions"], STRINGS[Language.JA]["h_groups"]):
            continue  # comparison and white-box sections only
        assert heading in text, heading
    assert "\ufffd" not in text

    # Every text object on every page is set in the embedded IPAexGothic: none falls back
    # to a standard font that a viewer would substitute and that lacks Japanese glyphs.
    assert text_fonts(pdf) == {("IPAexGothic", True)}
    assert b"/FontFile2" in pdf.read_bytes()


def test_japanese_strings_have_glyphs() -> None:
    # A character missing from the font would print as an empty box.
    cmap = TTFont(str(japanese_font_path()), lazy=True).getBestCmap()
    used = {char for value in STRINGS[Language.JA].values() for char in value}
    used |= set(string.printable.strip()) | set("×°–")
    missing = sorted(char for char in used if ord(char) not in cmap)
    assert missing == []


def test_strings_match_across_languages() -> None:
    english, japanese = STRINGS[Language.EN], STRINGS[Language.JA]
    assert english.keys() == japanese.keys()
    fields = re.compile(r"\{(\w+)")
    for key in english:
        assert set(fields.findall(english[key])) == set(fields.findall(japanese[key])), key


def test_report_marks_degenerate_and_skipped(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Lose segment 1 and score again, then mark int8 degenerate as a broken build would be.
    (session / "video" / "000001.avi").unlink()
    assert score(session, variant_cache) == 0
    path = session / "scores" / "test.json"
    summary = json.loads(path.read_text("utf-8"))
    summary["variants"][1]["degenerate"] = True
    path.write_text(json.dumps(summary), "utf-8")

    code, _, _ = run_cli(["report", str(session), "--run", "test"], capsys)

    assert code == 0
    # Table cells wrap, so compare with runs of whitespace collapsed.
    text = " ".join(" ".join(pages_text(session / "report.pdf")).split())
    assert "efficientnet-lite0@int8 (DEGENERATE)" in text
    assert "fewer than half" in text
    assert re.search(r"Segment 1 is missing: \d+ frames skipped", text)
    assert "Nothing was skipped" not in text


def test_compare_report(session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other-session"
    shutil.copytree(session, other)
    document = json.loads((other / "session.json").read_text("utf-8"))
    document["session_id"] = "other-session"
    (other / "session.json").write_text(json.dumps(document), "utf-8")
    output = tmp_path / "side-by-side.pdf"

    args = ["report", "--compare", str(session), str(other), "--output", str(output)]
    code, _, _ = run_cli([*args, "--lang", "ja"], capsys)

    assert code == 0
    check_pages_have_content(output)
    text = "".join(pages_text(output))
    assert STRINGS[Language.JA]["compare_title"] in text
    assert session.name in text
    assert "other-session" in text


def test_report_errors(session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["report", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "not a session folder")

    unscored = tmp_path / "unscored"
    shutil.copytree(session, unscored)
    shutil.rmtree(unscored / "scores")
    code, _, err = run_cli(["report", str(unscored)], capsys)
    assert_one_line_error(code, err, "has no score run", "patch-harness score")

    code, _, err = run_cli(["report", str(session), "--run", "nope"], capsys)
    assert_one_line_error(code, err, "score run 'nope' not found", "test")
    code, _, err = run_cli(["report", "--compare", str(session)], capsys)
    assert_one_line_error(code, err, "--compare needs two or more sessions")
    code, _, err = run_cli(["report"], capsys)
    assert_one_line_error(code, err, "no session given")


def test_untargeted_report(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A session recorded without --target: success is undefined, misclassification remains.
    document = json.loads((session / "session.json").read_text("utf-8"))
    document["target"] = None
    (session / "session.json").write_text(json.dumps(document), "utf-8")
    assert score(session, variant_cache) == 0
    summary = json.loads((session / "scores" / "test.json").read_text("utf-8"))
    assert summary["target"] is None

    code, _, _ = run_cli(["report", str(session)], capsys)

    assert code == 0
    check_pages_have_content(session / "report.pdf")
    text = " ".join(" ".join(pages_text(session / "report.pdf")).split())
    assert "no target class, so only misclassification" in text
    assert "With the patch, efficientnet-lite0@32 misclassifies" in text
    assert "none (untargeted)" in text
