"""``score`` end to end on a session that ``live`` recorded from a video.

The replay runs the real EfficientNet-Lite0 in ONNX Runtime on the decoded MJPG segments,
and the checks recompute the JSON summary from the per-frame CSV and compare the replayed
conditions and predictions with those live recorded.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch

from harness.capture.session import FRAMES_FILE, SESSION_FILE, read_session
from tests.cli_helpers import run_cli
from tests.score_helpers import CLEAN_FRAMES, POSES, record_session

torch.set_num_threads(1)

VARIANTS = "efficientnet-lite0@32,int8"
FLOAT = "efficientnet-lite0@32"
INT8 = "efficientnet-lite0@int8"
TOASTER = 859


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, variant_cache: Path) -> Path:
    """A session recorded by live: 10 clean frames, then 21 with the patch."""
    return record_session(tmp_path_factory.mktemp("recorded"), variant_cache)


@pytest.fixture
def session(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded session that a test may damage."""
    copy = tmp_path / recorded.name
    shutil.copytree(recorded, copy)
    return copy


def score_args(session: Path, cache: Path, *extra: str) -> list[str]:
    return [
        "score",
        str(session),
        "--variants",
        VARIANTS,
        "--calibration-images",
        "8",
        "--agreement-images",
        "4",
        "--cache-dir",
        str(cache),
        "--run",
        "test",
        "--yaw-bins=-45,-15,15,45",
        *extra,
    ]


def read_outputs(session: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    summary = json.loads((session / "scores" / "test.json").read_text("utf-8"))
    with (session / "scores" / "test.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return summary, rows


def variant_summary(summary: dict[str, Any], name: str) -> dict[str, Any]:
    (variant,) = [item for item in summary["variants"] if item["name"] == name]
    result: dict[str, Any] = variant["summary"]
    return result


def test_score_recorded_session(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(score_args(session, variant_cache), capsys)

    assert code == 0
    assert "scored 31 of 31 frames (0 skipped)" in out
    summary, rows = read_outputs(session)
    assert summary["frames"]["replayed"] == 31
    assert summary["target"] == {"index": TOASTER, "name": "toaster"}
    assert [v["name"] for v in summary["variants"]] == [FLOAT, INT8]
    assert summary["timing"]["frames_per_s"] > 0
    assert summary["timing"]["recorded_fps"] == pytest.approx(30.0, rel=0.2)
    assert len(rows) == 31 * 2

    # The reference is fp32's majority label over the clean frames, recounted from the CSV.
    clean_fp32 = [r for r in rows if r["phase"] == "clean" and r["variant"] == FLOAT]
    assert len(clean_fp32) == CLEAN_FRAMES
    label, votes = Counter(int(r["top1"]) for r in clean_fp32).most_common(1)[0]
    assert summary["reference"]["source"] == "fp32-majority"
    assert summary["reference"]["index"] == label
    assert summary["reference"]["votes"] == votes

    # Every rate in the JSON equals the count of its CSV rows.
    for name in (FLOAT, INT8):
        phases = variant_summary(summary, name)["phases"]
        for phase, frames in (("clean", CLEAN_FRAMES), ("patch", len(POSES))):
            mine = [r for r in rows if r["variant"] == name and r["phase"] == phase]
            assert phases[phase]["frames"] == frames
            success = phases[phase]["success"]
            assert success["count"] == sum(int(r["top1"]) == TOASTER for r in mine)
            wrong = phases[phase]["misclassification"]
            assert wrong["count"] == sum(int(r["top1"]) != label for r in mine)
            assert wrong["low"] <= wrong["rate"] <= wrong["high"]


def test_score_bins_follow_recorded_yaw(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(score_args(session, variant_cache), capsys)[0] == 0
    summary, _ = read_outputs(session)

    # Yaws -40..40 in steps of 4 against edges -45, -15, 15, 45: 7, 7 and 7 patch frames.
    assert summary["bins"]["yaw_deg"] == [-45.0, -15.0, 15.0, 45.0]
    bins = variant_summary(summary, FLOAT)["bins"]["yaw_deg"]
    assert [b["label"] for b in bins] == ["[-45, -15)", "[-15, 15)", "[15, 45]"]
    assert [b["phases"]["patch"]["frames"] for b in bins] == [7, 7, 7]
    # Clean frames show no markers, so they have no yaw.
    unbinned = variant_summary(summary, FLOAT)["unbinned"]["yaw_deg"]
    assert unbinned == {"clean": CLEAN_FRAMES, "patch": 0}


def test_score_replay_matches_live(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(score_args(session, variant_cache), capsys)[0] == 0
    _, rows = read_outputs(session)

    # Live scored the frames before MJPG compression and replay scores the decoded video,
    # so a few labels may flip. A channel swap or a wrong region would flip most.
    # Under load live skips frames, so only the frames it scored are compared.
    live = {record.index: record for record in read_session(session).frames if record.scored}
    assert len(live) >= 5
    for name in (FLOAT, INT8):
        replayed = {int(r["frame"]): int(r["top1"]) for r in rows if r["variant"] == name}
        same = sum(live[index].predictions[name].top1 == replayed[index] for index in live)
        assert same >= 0.8 * len(live), name


def test_score_recomputes_missing_conditions(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Frames that live skipped have no conditions: drop them from every line.
    path = session / FRAMES_FILE
    recorded = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    stripped = [
        {**line, "conditions": None, "input_region": None, "predictions": {}} for line in recorded
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in stripped), "utf-8")

    assert run_cli(score_args(session, variant_cache), capsys)[0] == 0
    _, rows = read_outputs(session)

    compared = 0
    for row in rows:
        assert row["conditions"] == "recomputed"
        truth = recorded[int(row["frame"])]["conditions"]
        if truth is None:
            continue  # live skipped this frame, so there is nothing to compare with
        compared += 1
        if truth["yaw_deg"] is None:
            assert row["yaw_deg"] == ""
        else:
            # The decoded JPEG moves the marker corners by a fraction of a pixel.
            assert float(row["yaw_deg"]) == pytest.approx(truth["yaw_deg"], abs=1.5)
            assert float(row["distance_m"]) == pytest.approx(truth["distance_m"], rel=0.02)
    assert compared >= 10


def test_score_white_box_and_transfer(
    session: Path, tmp_path: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printables = tmp_path / "printables"
    (printables / "p1").mkdir(parents=True)
    (printables / "p1" / "patch.json").write_text(
        json.dumps({"id": "p1", "variants": [FLOAT]}), "utf-8"
    )
    document = json.loads((session / SESSION_FILE).read_text("utf-8"))
    document["patch"]["patch_id"] = "p1"
    (session / SESSION_FILE).write_text(json.dumps(document), "utf-8")

    args = score_args(session, variant_cache, "--printables", str(printables))
    assert run_cli(args, capsys)[0] == 0
    summary, _ = read_outputs(session)

    flags = {variant["name"]: variant["white_box"] for variant in summary["variants"]}
    assert flags == {FLOAT: True, INT8: False}
    assert summary["groups"]["white_box"]["variants"] == [FLOAT]
    # With 8 calibration images the int8 variant can come out degenerate, and a degenerate
    # variant is listed apart from the transfer mean.
    int8_degenerate = next(v["degenerate"] for v in summary["variants"] if v["name"] == INT8)
    transfer = summary["groups"]["transfer"]
    assert transfer["variants"] + transfer["degenerate"] == [INT8]
    assert transfer["degenerate"] == ([INT8] if int8_degenerate else [])
