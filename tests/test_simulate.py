"""simulate: pose measured on rendered pixels against the truth, sessions, the sim: source."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.calibration.color import generic_profile
from harness.capture.pose import Intrinsics
from harness.capture.session import Phase, read_session
from harness.capture.sources import CaptureSettings, SourceKind, open_reader, parse_source
from harness.commands.simulate import SIMULATION_FILE, SimulateRequest, run_simulate
from harness.live.inputs import input_region
from harness.patch.ranges import Span
from harness.printing.markers import PATCH_MARKER_IDS, detect_markers
from harness.scenes import default_scenes
from harness.simulate.accuracy import pose_accuracy
from harness.simulate.conditions import ViewConditions, ViewRanges
from harness.simulate.run import Simulation, SimulationSettings

CALIBRATION = Path(__file__).parent.parent / "calibration"


def _patch_png(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    path = folder / "patch.png"
    Image.fromarray(pixels).save(path)
    return path


def _simulation(settings: SimulationSettings) -> Simulation:
    pixels = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    intrinsics = Intrinsics.assumed(settings.size, 60.0)
    return Simulation(pixels, settings, default_scenes(), intrinsics, generic_profile())


def test_pose_matches_truth_over_default_ranges() -> None:
    # The default ranges include blur, noise, light and JPEG, and angles up to 40 degrees.
    simulation = _simulation(SimulationSettings(clean_frames=0, patch_frames=40, seed=11))
    pairs = []
    for frame in simulation.frames():
        pairs.append((simulation.measure(frame.image), frame.truth))
    accuracy = pose_accuracy(pairs)

    assert accuracy.frames == 40
    assert accuracy.measured >= 36
    assert accuracy.median_angle_deg <= 3.0
    assert accuracy.median_distance_error <= 0.05


def test_pose_matches_truth_far_and_oblique() -> None:
    # Beyond the default range: steeper and farther, with markers down to about 12 px.
    ranges = ViewRanges(
        yaw_deg=Span(-55.0, 55.0), pitch_deg=Span(-55.0, 55.0), distance_m=Span(0.6, 1.0)
    )
    settings = SimulationSettings(clean_frames=0, patch_frames=30, seed=5, ranges=ranges)
    simulation = _simulation(settings)
    accuracy = pose_accuracy(
        (simulation.measure(frame.image), frame.truth) for frame in simulation.frames()
    )

    assert accuracy.measured >= 24
    assert accuracy.median_angle_deg <= 3.0
    assert accuracy.median_distance_error <= 0.05


def test_scripted_view_is_measured() -> None:
    script = (ViewConditions(yaw_deg=30.0, pitch_deg=-10.0, roll_deg=15.0, distance_m=0.6),)
    simulation = _simulation(SimulationSettings(clean_frames=1, script=script))
    clean, patched = list(simulation.frames())

    assert detect_markers(clean.image[..., ::-1].copy()) == {}
    measured = simulation.measure(patched.image)
    assert measured.markers == PATCH_MARKER_IDS
    assert measured.yaw_deg == pytest.approx(30.0, abs=1.5)
    assert measured.pitch_deg == pytest.approx(-10.0, abs=1.5)
    assert measured.roll_deg == pytest.approx(15.0, abs=1.0)
    assert measured.distance_m == pytest.approx(0.6, rel=0.02)
    assert patched.truth.centre_px == pytest.approx((639.5, 359.5))


def test_session_has_truth_beside_measurement(tmp_path: Path) -> None:
    request = SimulateRequest(
        image=_patch_png(tmp_path / "input"),
        target="toaster",
        printables=tmp_path / "printables",
        settings=SimulationSettings(
            size=(640, 360),
            clean_frames=6,
            patch_frames=12,
            scenes=2,
            ranges=ViewRanges(distance_m=Span(0.3, 0.45)),
        ),
        calibration_dir=CALIBRATION,
        captures=tmp_path / "captures",
        segment_s=0.2,
        crop_scale=2.0,
    )
    result = run_simulate(request)
    session = read_session(result.folder)

    assert session.info.source.kind == "sim"
    assert session.info.scoring.crop_scale == 2.0
    assert session.info.target is not None and session.info.target.name == "toaster"
    assert session.info.ended is not None
    assert [frame.phase for frame in session.frames] == [Phase.CLEAN] * 6 + [Phase.PATCH] * 12
    assert all(frame.truth is not None for frame in session.frames)
    assert all(frame.conditions is not None for frame in session.frames)
    clean, patched = session.frames[0], session.frames[6]
    assert clean.truth is not None and clean.truth.distance_m is None
    assert patched.truth is not None and patched.truth.distance_m is not None
    # Pairs share the scene and the camera effects.
    assert clean.truth.scene == patched.truth.scene
    assert clean.truth.noise == patched.truth.noise

    frames = [
        image for number in sorted(session.segments) for image in session.segment_frames(number)
    ]
    assert len(frames) == 18
    assert frames[0].shape == (360, 640, 3)

    # Under the crop, clean frame i is classified on the crop of patch frame i. The clean crop
    # comes from the true corners and the patch crop from the measured ones, which differ by
    # up to about 5 px at 640x360.
    for index in range(6):
        clean_frame, patch_frame = session.frames[index], session.frames[6 + index]
        assert clean_frame.input_region is not None
        assert patch_frame.input_region is None
        assert patch_frame.conditions is not None
        corners = patch_frame.conditions.patch_corners_px
        assert corners is not None
        expected = input_region((640, 360), np.array(corners), 2.0)
        assert clean_frame.input_region == pytest.approx(expected, abs=8)

    document = json.loads((result.folder / SIMULATION_FILE).read_text())
    assert document["pose_accuracy"]["frames"] == 12
    assert document["pose_accuracy"]["median_angle_deg"] <= 3.0


def test_sim_source_clean_then_patch(tmp_path: Path) -> None:
    patch = _patch_png(tmp_path / "patch")
    spec = parse_source(f"sim:{patch.parent},clean=2,frames=3,seed=1")
    assert spec.kind is SourceKind.SIM

    with open_reader(spec, CaptureSettings(fps=15.0)) as reader:
        frames = []
        while (frame := reader.read()) is not None:
            frames.append(frame)
        assert reader.fps == 15.0

    assert len(frames) == 5
    assert frames[0].shape == (720, 1280, 3)
    assert detect_markers(frames[0][..., ::-1].copy()) == {}
    assert len(detect_markers(frames[4][..., ::-1].copy())) >= 3
