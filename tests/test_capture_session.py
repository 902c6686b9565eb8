"""The session format: round trips, a cut-short last line, schema checks and folder names."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.capture.session import (
    FRAMES_FILE,
    SESSION_FILE,
    CameraInfo,
    ClassRef,
    Conditions,
    EndReason,
    FrameRecord,
    Phase,
    Prediction,
    PrintedPatch,
    ScoringInfo,
    SessionCounts,
    SessionEnd,
    SessionInfo,
    SourceInfo,
    VariantInfo,
    create_session_folder,
    frame_line,
    read_frames,
    read_session,
    read_session_info,
    segment_path,
    write_session_info,
)
from harness.errors import SessionError


def session_info() -> SessionInfo:
    return SessionInfo(
        session_id="20260101-120000",
        started="2026-01-01T12:00:00+01:00",
        source=SourceInfo(
            kind="stream", location="http://phone/video", width=1280, height=720, fps=30.0
        ),
        camera=CameraInfo(
            profile=None,
            camera_matrix=((900.0, 0.0, 639.5), (0.0, 900.0, 359.5), (0.0, 0.0, 1.0)),
            distortion=(0.0,) * 5,
            assumed_fov_deg=70.0,
        ),
        patch=PrintedPatch(patch_id="3f2a9c0d1e4b", size_mm=100.0),
        target=ClassRef(index=859, name="toaster"),
        variants=(
            VariantInfo(
                name="efficientnet-lite0@32", agreement=1.0, agreement_images=32, degenerate=False
            ),
            VariantInfo(
                name="efficientnet-lite0@2:gptq",
                agreement=0.1,
                agreement_images=32,
                degenerate=True,
            ),
        ),
        scoring=ScoringInfo(
            crop_scale=2.0, window=30, reference=ClassRef(index=967, name="espresso")
        ),
        software={"patch-harness": "0.1.0"},
    )


def scored_record(index: int) -> FrameRecord:
    return FrameRecord(
        index=index,
        time_s=index / 30,
        phase=Phase.PATCH,
        tags=("3",),
        segment=0,
        segment_frame=index,
        conditions=Conditions(
            markers=(0, 1, 3),
            luminance=0.42,
            sharpness=0.013,
            yaw_deg=12.5,
            pitch_deg=-3.0,
            roll_deg=1.0,
            distance_m=0.62,
            patch_area_px=23400.0,
            patch_corners_px=((10.0, 20.0), (110.0, 21.0), (111.0, 120.0), (9.0, 119.0)),
        ),
        input_region=(0, 0, 1280, 720),
        predictions={
            "efficientnet-lite0@32": Prediction(top1=859, probability=0.8, target_probability=0.8),
            "efficientnet-lite0@int8": Prediction(
                top1=967, probability=0.5, target_probability=0.1
            ),
        },
    )


def test_session_info_round_trip(tmp_path: Path) -> None:
    ended = SessionEnd(reason=EndReason.SOURCE_LOST, message="camera 0 sent no frame", time="t")
    counts = SessionCounts(
        source_frames=90, recorded_frames=88, scored_frames=40, dropped_frames=2, segments=3
    )
    info = replace(session_info(), ended=ended, counts=counts)
    write_session_info(tmp_path, info)

    assert read_session_info(tmp_path) == info
    document = json.loads((tmp_path / SESSION_FILE).read_text())
    assert document["kind"] == "patch-harness/session"
    assert document["version"] == 1
    assert document["ended"]["reason"] == "source-lost"
    assert not (tmp_path / f".{SESSION_FILE}.partial").exists()


def test_frame_records_round_trip(tmp_path: Path) -> None:
    unscored = FrameRecord(index=1, time_s=0.033, phase=Phase.CLEAN, segment=0, segment_frame=1)
    records = [scored_record(0), unscored, scored_record(2)]
    (tmp_path / FRAMES_FILE).write_text("".join(frame_line(r) for r in records))

    read, truncated = read_frames(tmp_path / FRAMES_FILE)
    assert read == records
    assert not truncated
    assert [r.scored for r in read] == [True, False, True]


def test_cut_short_last_line(tmp_path: Path) -> None:
    lines = "".join(frame_line(scored_record(index)) for index in range(3))
    # A kill during a write leaves part of the last line without its newline.
    (tmp_path / FRAMES_FILE).write_text(lines + frame_line(scored_record(3))[:40])

    read, truncated = read_frames(tmp_path / FRAMES_FILE)
    assert [r.index for r in read] == [0, 1, 2]
    assert truncated


def test_corrupt_line_in_the_middle(tmp_path: Path) -> None:
    lines = [frame_line(scored_record(index)) for index in range(3)]
    lines[1] = lines[1][:30] + "\n"
    (tmp_path / FRAMES_FILE).write_text("".join(lines))
    with pytest.raises(SessionError, match="line 2 is corrupt"):
        read_frames(tmp_path / FRAMES_FILE)


def test_invalid_fields_named(tmp_path: Path) -> None:
    document = json.loads(frame_line(scored_record(0)))
    document["phase"] = "dirty"
    (tmp_path / FRAMES_FILE).write_text(json.dumps(document) + "\n")
    with pytest.raises(SessionError, match=r"line 1: phase is invalid: expected one of 'clean'"):
        read_frames(tmp_path / FRAMES_FILE)

    del document["phase"]
    (tmp_path / FRAMES_FILE).write_text(json.dumps(document) + "\n")
    with pytest.raises(SessionError, match="field 'phase' is missing"):
        read_frames(tmp_path / FRAMES_FILE)

    document = json.loads(frame_line(scored_record(0)))
    document["predictions"]["efficientnet-lite0@32"]["top1"] = "toaster"
    (tmp_path / FRAMES_FILE).write_text(json.dumps(document) + "\n")
    with pytest.raises(
        SessionError, match="efficientnet-lite0@32: top1 is invalid: expected an integer"
    ):
        read_frames(tmp_path / FRAMES_FILE)


def test_other_schema_version(tmp_path: Path) -> None:
    write_session_info(tmp_path, session_info())
    document = json.loads((tmp_path / SESSION_FILE).read_text())
    document["version"] = 2
    (tmp_path / SESSION_FILE).write_text(json.dumps(document))
    with pytest.raises(
        SessionError, match="version 2: expected kind 'patch-harness/session' version 1"
    ):
        read_session_info(tmp_path)
    with pytest.raises(SessionError, match="not a session folder"):
        read_session_info(tmp_path / "elsewhere")


def test_not_a_number_is_null(tmp_path: Path) -> None:
    info = replace(
        session_info(),
        variants=(
            VariantInfo(name="m@32", agreement=math.nan, agreement_images=0, degenerate=False),
        ),
    )
    write_session_info(tmp_path, info)
    assert json.loads((tmp_path / SESSION_FILE).read_text())["variants"][0]["agreement"] is None
    assert math.isnan(read_session_info(tmp_path).variants[0].agreement)


def test_session_folders_never_reused(tmp_path: Path) -> None:
    started = datetime(2026, 1, 1, 12, 0, 0)
    first = create_session_folder(tmp_path, started)
    second = create_session_folder(tmp_path, started)
    third = create_session_folder(tmp_path, started)
    assert [first.name, second.name, third.name] == [
        "20260101-120000",
        "20260101-120000-2",
        "20260101-120000-3",
    ]
    assert (first / "video").is_dir()


def test_read_session_segments(tmp_path: Path) -> None:
    folder = create_session_folder(tmp_path, datetime(2026, 1, 1))
    write_session_info(folder, session_info())
    for number, open_segment in ((0, False), (1, False), (2, True)):
        path = segment_path(folder, number, open_segment=open_segment)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (32, 24))
        for value in range(3):
            writer.write(np.full((24, 32, 3), 60 * value, np.uint8))
        writer.release()
    (folder / "video" / "notes.txt").write_text("ignored")

    session = read_session(folder)
    assert sorted(session.segments) == [0, 1]
    assert [p.name for p in session.open_segments] == ["000002-open.avi"]
    assert session.frames == ()
    assert len(list(session.segment_frames(1))) == 3
    record = FrameRecord(index=0, time_s=0.0, phase=Phase.CLEAN, segment=2, segment_frame=0)
    assert not session.has_video(record)
