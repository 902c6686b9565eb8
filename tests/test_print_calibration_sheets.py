"""The ChArUco and colour chart sheets, found and measured in their own renderings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.calibration.chart_reader import read_chart
from harness.calibration.charuco_views import BoardDetector
from harness.cli import main
from harness.printing import color_chart
from harness.printing.charuco import DEFAULT_CHARUCO
from harness.printing.markers import CHART_MARKER_IDS, detect_markers
from tests.printing_helpers import px_per_mm, render_pdf


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_charuco_board_detected_at_scale(
    paper: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["print", "--sheet", "charuco", "--paper", paper, "--printables", str(tmp_path)]) == 0
    )
    assert f"charuco-{paper}.pdf" in capsys.readouterr().out
    (page,) = render_pdf(tmp_path / "sheets" / f"charuco-{paper}.pdf", 150)

    view = BoardDetector(DEFAULT_CHARUCO).detect(page[..., ::-1].copy())
    assert view is not None
    assert len(view.image_points) == DEFAULT_CHARUCO.corner_count

    # Neighbouring corners along x are one square apart on paper.
    spacing: list[float] = []
    for index, point in enumerate(view.object_points):
        for other, other_point in enumerate(view.object_points):
            step = other_point - point
            if abs(step[0] - DEFAULT_CHARUCO.square_mm) < 1e-3 and abs(step[1]) < 1e-3:
                pixels = np.linalg.norm(view.image_points[other] - view.image_points[index])
                spacing.append(float(pixels) / px_per_mm(150))
    square = float(np.median(spacing))
    assert abs(square - DEFAULT_CHARUCO.square_mm) / DEFAULT_CHARUCO.square_mm < 0.005


def test_charuco_square_size_option(tmp_path: Path) -> None:
    args = ["print", "--sheet", "charuco", "--square-mm", "20", "--printables", str(tmp_path)]
    assert main(args) == 0
    (page,) = render_pdf(tmp_path / "sheets" / "charuco-a4.pdf", 100)
    view = BoardDetector(DEFAULT_CHARUCO.with_square_mm(20)).detect(page[..., ::-1].copy())
    assert view is not None
    assert len(view.image_points) == DEFAULT_CHARUCO.corner_count


@pytest.mark.parametrize("name", ["colour-chart", "color-chart"])
def test_color_chart_reads_back(name: str, tmp_path: Path) -> None:
    assert main(["print", "--sheet", name, "--printables", str(tmp_path)]) == 0
    (page,) = render_pdf(tmp_path / "sheets" / "colour-chart-a4.pdf", 100)

    assert sorted(detect_markers(page, CHART_MARKER_IDS)) == list(CHART_MARKER_IDS)
    reading = read_chart(page)
    assert reading.swatches_found == len(color_chart.swatch_colors())
    error = np.abs(reading.colors - color_chart.swatch_colors()).max()
    assert error <= 1.5 / 255


def test_chart_swatches_cover_gamut() -> None:
    colors = color_chart.swatch_colors()
    assert colors.min() == 0.0
    assert colors.max() == 1.0
    assert len(np.unique(colors, axis=0)) == len(colors)
    cells = {color_chart.swatch_cell(index) for index in range(len(colors))}
    assert len(cells) == len(colors)
