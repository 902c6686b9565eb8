"""``score`` on damaged and older sessions, and its one-line errors.

The damaged sessions are copies of a session recorded by ``live``, cut the way a crash or
a lost file cuts them: a half-written last line, a missing segment, a segment cut short, a
segment left open, and a ``session.json`` of an older schema.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from harness.capture.session import FRAMES_FILE, SESSION_FILE, read_session
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.score_helpers import record_session

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, variant_cache: Path) -> Path:
    return record_session(tmp_path_factory.mktemp("recorded"), variant_cache)


@pytest.fixture
def session(recorded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / recorded.name
    shutil.copytree(recorded, copy)
    return copy


def score(session: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = [
        "score",
        str(session),
        "--variants",
        "efficientnet-lite0@32",
        "--agreement-images",
        "4",
        "--cache-dir",
        str(cache),
        "--run",
        "test",
    ]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    summary: dict[str, Any] = json.loads((session / "scores" / "test.json").read_text("utf-8"))
    return summary


def segment_sizes(session: Path) -> dict[int, int]:
    """Return the number of lines per segment."""
    sizes: dict[int, int] = {}
    for record in read_session(session).frames:
        sizes[record.segment] = sizes.get(record.segment, 0) + 1
    return sizes


def test_damaged_session_scored_for_what_is_readable(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sizes = segment_sizes(session)
    assert len(sizes) >= 4, sizes
    video = session / "video"
    # A crash cut the last line short, segment 1 is lost, segment 2 lost its second half,
    # and segment 3 was never renamed from its open name.
    with (session / FRAMES_FILE).open("a", encoding="utf-8") as file:
        file.write('{"index": 31, "time_s": 1.0')
    (video / "000001.avi").unlink()
    cut = video / "000002.avi"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    (video / "000003.avi").rename(video / "000003-open.avi")

    summary = score(session, variant_cache, capsys)

    frames = summary["frames"]
    assert frames["truncated_tail"] is True
    assert frames["lines"] == 31
    assert frames["missing_segments"] == [{"segment": 1, "frames": sizes[1]}]
    # OpenCV reads a cut AVI up to the cut or rejects it whole; either way frames are lost.
    lost_in_cut = sum(
        item["frames"]
        for item in frames["cut_segments"] + frames["unreadable_segments"]
        if item["segment"] == 2
    )
    assert 1 <= lost_in_cut <= sizes[2]
    assert frames["open_segments"] == [3]
    assert frames["skipped"] == sizes[1] + lost_in_cut
    assert frames["replayed"] == 31 - frames["skipped"]
    patch = summary["variants"][0]["summary"]["phases"]
    assert patch["clean"]["frames"] + patch["patch"]["frames"] == frames["replayed"]


def test_older_session_json(
    session: Path, variant_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((session / SESSION_FILE).read_text("utf-8"))
    document["version"] = 0
    for name in ("camera", "scoring", "variants"):
        del document[name]
    document["patch"] = "p1"  # an older, flat spelling that no longer decodes
    (session / SESSION_FILE).write_text(json.dumps(document), "utf-8")

    summary = score(session, variant_cache, capsys)

    schema = summary["session_schema"]
    assert schema["version"] == 0
    notes = " | ".join(schema["notes"])
    assert "no 'camera'; assumed an uncalibrated camera" in notes
    assert "no 'scoring'; assumed whole-frame input" in notes
    assert "patch is invalid: expected a JSON object" in notes
    assert summary["frames"]["replayed"] == 31
    # The target survived, so success is still measured.
    assert summary["target"]["name"] == "toaster"


def test_not_a_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["score", str(tmp_path)], capsys)
    assert_one_line_error(code, err, str(tmp_path), "not a session folder")


def test_newer_session_json(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads((session / SESSION_FILE).read_text("utf-8"))
    document["version"] = 99
    (session / SESSION_FILE).write_text(json.dumps(document), "utf-8")
    code, _, err = run_cli(["score", str(session)], capsys)
    assert_one_line_error(code, err, "version 99", "update patch-harness")


def test_invalid_options(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["score", str(session), "--yaw-bins", "30,0"], capsys)
    assert_one_line_error(code, err, "--yaw-bins '30,0' is invalid", "increasing")
    code, _, err = run_cli(["score", str(session), "--batch-size", "0"], capsys)
    assert_one_line_error(code, err, "--batch-size 0 is invalid")
    code, _, err = run_cli(["score", str(session), "--variants", "efficientnet-lite0@1"], capsys)
    assert_one_line_error(code, err, "bit width 1")
    code, _, err = run_cli(["score", str(session), "--true-class", "no-such-class"], capsys)
    assert_one_line_error(code, err, "no-such-class")
