"""Camera calibration on ChArUco views rendered through a known pinhole camera."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from harness.calibration.camera import CameraProfile
from harness.cli import main
from harness.errors import ProfileError
from tests.printing_helpers import render_pdf

TEXTURE_DPI = 100
IMAGE_SIZE = (1280, 720)
"""(width, height) of the rendered views, in px."""

CAMERA = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
"""The known camera: fx = fy = 1000 px, principal point at the image centre."""

# (rotation about x, y, z in degrees, x and y offset and distance in mm) of each view.
POSES = (
    (0, 0, 0, 0, 0, 560),
    (25, 0, 0, 0, 0, 580),
    (-25, 0, 5, 0, 0, 580),
    (0, 28, 0, 0, 0, 560),
    (0, -28, -5, 0, 0, 560),
    (20, 20, 10, 30, 0, 600),
    (-20, 20, -10, -30, 10, 600),
    (20, -20, 90, 0, 0, 520),
    (-18, -22, 80, 0, -10, 520),
    (10, 30, 0, 80, 0, 650),
    (-10, -30, 0, -80, 0, 650),
    (30, 10, 45, 0, 0, 620),
)


@pytest.fixture(scope="module")
def board_texture(tmp_path_factory: pytest.TempPathFactory) -> NDArray[np.uint8]:
    """The printed ChArUco sheet (A4) as an RGB image at 100 dpi."""
    printables = tmp_path_factory.mktemp("printables")
    assert main(["print", "--sheet", "charuco", "--printables", str(printables)]) == 0
    (page,) = render_pdf(printables / "sheets" / "charuco-a4.pdf", TEXTURE_DPI)
    return page


def _rotation(rx: float, ry: float, rz: float) -> NDArray[np.float64]:
    vector = np.zeros(3)
    matrix = np.eye(3)
    for axis, degrees in enumerate((rx, ry, rz)):
        vector[:] = 0
        vector[axis] = np.radians(degrees)
        rotation, _ = cv2.Rodrigues(vector)
        matrix = matrix @ rotation
    return matrix


def render_view(
    texture: NDArray[np.uint8], pose: tuple[float, float, float, float, float, float]
) -> NDArray[np.uint8]:
    """Project the flat sheet through ``CAMERA`` at ``pose``; return a BGR frame."""
    rx, ry, rz, tx, ty, distance = pose
    rotation = _rotation(rx, ry, rz)
    # Page plane z = 0 with its origin at the page centre, in mm.
    camera_from_plane = np.column_stack([rotation[:, 0], rotation[:, 1], [tx, ty, distance]])
    height, width = texture.shape[:2]
    mm = 25.4 / TEXTURE_DPI
    plane_from_texture = np.array(
        [[mm, 0, mm / 2 - width * mm / 2], [0, mm, mm / 2 - height * mm / 2], [0, 0, 1]]
    )
    image_from_texture = CAMERA @ camera_from_plane @ plane_from_texture
    frame = cv2.warpPerspective(
        texture, image_from_texture, IMAGE_SIZE, flags=cv2.INTER_AREA, borderValue=(90, 90, 90)
    )
    return np.asarray(frame[..., ::-1], dtype=np.uint8)


@pytest.fixture(scope="module")
def view_folder(board_texture: NDArray[np.uint8], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("views")
    for index, pose in enumerate(POSES):
        cv2.imwrite(str(folder / f"view{index:02d}.png"), render_view(board_texture, pose))
    return folder


def test_recovers_known_camera(
    view_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["calibrate", "camera", str(view_folder), "--name", "synthetic"]
    assert main([*args, "--calibration", str(tmp_path)]) == 0
    assert "RMS reprojection error" in capsys.readouterr().out

    profile = CameraProfile.load(tmp_path / "synthetic.json")
    fx, fy = profile.focal_px
    assert abs(fx - 1000.0) / 1000.0 < 0.02, fx
    assert abs(fy - 1000.0) / 1000.0 < 0.02, fy
    assert profile.rms_px < 0.5
    assert profile.views == len(POSES)
    assert profile.image_size == IMAGE_SIZE
    assert abs(profile.camera_matrix[0, 2] - 640.0) < 10
    assert abs(profile.camera_matrix[1, 2] - 360.0) < 10


def test_video_source(
    board_texture: NDArray[np.uint8], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "board.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, IMAGE_SIZE)
    for pose in POSES:
        writer.write(render_view(board_texture, pose))
    writer.release()

    args = ["calibrate", "camera", str(video), "--calibration", str(tmp_path)]
    assert main(args) == 0
    profile = CameraProfile.load(tmp_path / "camera.json")
    assert abs(profile.focal_px[0] - 1000.0) / 1000.0 < 0.02
    assert profile.rms_px < 0.5
    assert profile.source == f"video {video}"


def test_too_few_views(
    view_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    few = tmp_path / "few"
    few.mkdir()
    for source in sorted(view_folder.iterdir())[:3]:
        (few / source.name).write_bytes(source.read_bytes())
    cv2.imwrite(str(few / "blank.png"), np.zeros((720, 1280, 3), np.uint8))

    code = main(["calibrate", "camera", str(few), "--calibration", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: found 3 usable views")
    assert "in 4 frames" in lines[-1]
    assert "need at least 10" in lines[-1]
    assert "Traceback" not in err
    assert not (tmp_path / "camera.json").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nowhere.mp4"], "'nowhere.mp4' not found"),
        (["99", "--seconds", "1"], "cannot open camera 99"),
        (["VIEWS", "--name", "default-camera"], "reserved"),
        (["VIEWS", "--name", "../x"], "invalid"),
        (["VIEWS", "--min-views", "1"], "--min-views 1 is invalid"),
        (["VIEWS", "--square-mm", "0"], "--square-mm 0.0 is invalid"),
    ],
)
def test_bad_camera_input(
    args: list[str],
    needle: str,
    view_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(view_folder) if arg == "VIEWS" else arg for arg in args]
    code = main(["calibrate", "camera", *args, "--calibration", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert needle in err


def test_profile_wrong_schema(tmp_path: Path) -> None:
    path = tmp_path / "cam.json"
    path.write_text(json.dumps({"kind": "patch-harness/camera-profile", "version": 2}))
    with pytest.raises(ProfileError, match="version 2: expected kind"):
        CameraProfile.load(path)
    path.write_text(json.dumps({"kind": "patch-harness/camera-profile", "version": 1}))
    with pytest.raises(ProfileError, match="invalid 'image_size'"):
        CameraProfile.load(path)
