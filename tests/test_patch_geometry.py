import math

import pytest
import torch
from kornia.geometry.linalg import transform_points

from harness.patch.geometry import focal_length_px, frame_from_patch
from tests.patch_helpers import neutral_conditions


def test_fronto_parallel_square_by_hand() -> None:
    # A quarter of a 224 px frame is a 112 px square; centred, its box spans 55.5..167.5.
    corners, _ = frame_from_patch(neutral_conditions(1), (64, 64), 224, 60.0)
    expected = torch.tensor([[[55.5, 55.5], [167.5, 55.5], [167.5, 167.5], [55.5, 167.5]]])
    torch.testing.assert_close(corners, expected, atol=1e-3, rtol=0)


def test_position_zero_touches_corner() -> None:
    corners, _ = frame_from_patch(neutral_conditions(1, x=0.0, y=0.0), (64, 64), 224, 60.0)
    assert corners[0, 0].tolist() == pytest.approx([0.0, 0.0], abs=1e-4)


def test_homography_maps_patch_corners() -> None:
    conditions = neutral_conditions(
        1, yaw_deg=25.0, pitch_deg=-10.0, roll_deg=15.0, area=0.1, x=0.3, y=0.7
    )
    corners, transform = frame_from_patch(conditions, (32, 48), 224, 60.0)
    patch_corners = torch.tensor([[[0.0, 0.0], [47.0, 0.0], [47.0, 31.0], [0.0, 31.0]]])
    torch.testing.assert_close(
        transform_points(transform, patch_corners), corners, atol=1e-3, rtol=0
    )


def test_yaw_shortens_width_and_tilts_edges() -> None:
    corners, _ = frame_from_patch(neutral_conditions(1, yaw_deg=60.0), (64, 64), 224, 60.0)
    left = corners[0, 3, 1] - corners[0, 0, 1]
    right = corners[0, 2, 1] - corners[0, 1, 1]
    width = corners[0, 1, 0] - corners[0, 0, 0]
    # cos 60° halves the width, give or take perspective; the edges differ in length.
    assert 0.4 * 112 < width < 0.6 * 112
    assert not math.isclose(float(left), float(right), rel_tol=0.05)


def test_roll_quarter_turn_rotates_corners() -> None:
    corners, _ = frame_from_patch(neutral_conditions(1, roll_deg=90.0), (64, 64), 224, 60.0)
    # Rolling by 90° moves the top-left corner to the top-right of the box.
    assert corners[0, 0].tolist() == pytest.approx([167.5, 55.5], abs=1e-3)


def test_focal_length() -> None:
    assert focal_length_px(224, 90.0) == pytest.approx(112.0)
