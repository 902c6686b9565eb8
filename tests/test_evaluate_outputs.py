"""Files of an evaluation written from hand-made results: no model runs here."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harness.evaluate.outputs import PatchRow, plot_transfer, write_tables
from harness.evaluate.protocol import SuccessRuns

VARIANTS = ["efficientnet-lite0@32", "efficientnet-lite0@2:gptq"]


def _row() -> PatchRow:
    return PatchRow(
        label="efficientnet-lite0@32 (abc123)",
        target=859,
        target_name="toaster",
        clean_target_rate={name: 0.0 for name in VARIANTS},
        success={
            VARIANTS[0]: SuccessRuns(rates=(0.2, 0.3, 0.4), scenes=50),
            VARIANTS[1]: SuccessRuns(rates=(0.0, 0.0, 0.0), scenes=50),
        },
    )


def test_degenerate_flagged_in_tables(tmp_path: Path) -> None:
    write_tables(tmp_path, [_row()], VARIANTS, frozenset({VARIANTS[1]}))

    with (tmp_path / "asr.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["degenerate"] for row in rows] == ["no", "yes"]
    # Mean 0.3; sample std of 0.2, 0.3, 0.4 is 0.1.
    assert float(rows[0]["asr_mean"]) == pytest.approx(0.3)
    assert float(rows[0]["asr_std"]) == pytest.approx(0.1)

    with (tmp_path / "transfer.csv").open() as file:
        header = next(csv.reader(file))
    assert header == ["source \\ target", VARIANTS[0], f"{VARIANTS[1]} (degenerate)"]


def test_transfer_figure_written(tmp_path: Path) -> None:
    path = tmp_path / "transfer.png"
    plot_transfer(path, [_row()], VARIANTS, frozenset({VARIANTS[1]}))
    assert path.stat().st_size > 1000
