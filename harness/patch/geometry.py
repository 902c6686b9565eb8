"""From a 3D pose of the patch plane to the homography that warps the patch into the frame.

Convention: the patch lies in its own plane with x to the right and y down, centred on the
optical axis of a pinhole camera at a distance where its fronto-parallel image covers the
requested fraction of the frame. Yaw turns it about the y axis, pitch about the x axis and
roll about the optical axis (degrees, right-handed, applied as roll · yaw · pitch). Pixel
coordinates are (x, y) with (0, 0) at the centre of the top-left pixel, as kornia uses with
``align_corners=True``.
"""

from __future__ import annotations

import math

import torch
from kornia.geometry.transform import get_perspective_transform

from harness.patch.conditions import Conditions


def rotation_matrix(
    yaw_deg: torch.Tensor, pitch_deg: torch.Tensor, roll_deg: torch.Tensor
) -> torch.Tensor:
    """Return (B, 3, 3) rotations R = Rz(roll) · Ry(yaw) · Rx(pitch) from (B,) angles in degrees."""
    yaw, pitch, roll = (torch.deg2rad(a) for a in (yaw_deg, pitch_deg, roll_deg))
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)

    rot_x = torch.stack(
        [one, zero, zero, zero, pitch.cos(), -pitch.sin(), zero, pitch.sin(), pitch.cos()], dim=-1
    ).view(-1, 3, 3)
    rot_y = torch.stack(
        [yaw.cos(), zero, yaw.sin(), zero, one, zero, -yaw.sin(), zero, yaw.cos()], dim=-1
    ).view(-1, 3, 3)
    rot_z = torch.stack(
        [roll.cos(), -roll.sin(), zero, roll.sin(), roll.cos(), zero, zero, zero, one], dim=-1
    ).view(-1, 3, 3)
    return rot_z @ rot_y @ rot_x


def focal_length_px(image_size: int, fov_deg: float) -> float:
    """Return the focal length in px of a square image with a horizontal field of view."""
    return (image_size / 2.0) / math.tan(math.radians(fov_deg) / 2.0)


def frame_from_patch(
    conditions: Conditions, patch_hw: tuple[int, int], image_size: int, fov_deg: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Compute where the patch corners land in the frame and the homography that maps them.

    Args:
        conditions: (B,) pose, area and position per image.
        patch_hw: patch height and width in px.
        image_size: side of the square frame in px.
        fov_deg: horizontal field of view of the camera, degrees.

    Returns:
        ``frame_corners`` (B, 4, 2) in frame px (top-left, top-right, bottom-right,
        bottom-left) and ``frame_from_patch`` (B, 3, 3) mapping patch px to frame px.
    """
    height, width = patch_hw
    device = conditions.area.device
    focal = focal_length_px(image_size, fov_deg)

    # Fronto-parallel size in frame px, with the patch's aspect ratio.
    frame_area = conditions.area * image_size**2
    side_y = torch.sqrt(frame_area * height / width)
    side_x = side_y * width / height
    unit = torch.tensor([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], device=device)
    plane = torch.stack([unit[:, 0] * side_x[:, None], unit[:, 1] * side_y[:, None]], dim=-1)
    points = torch.cat([plane, torch.zeros_like(plane[..., :1])], dim=-1)  # (B, 4, 3)

    # Rotate about the patch centre, then place it at depth `focal` and project.
    rotated = points @ rotation_matrix(
        conditions.yaw_deg, conditions.pitch_deg, conditions.roll_deg
    ).transpose(1, 2)
    depth = rotated[..., 2] + focal
    projected = focal * rotated[..., :2] / depth.unsqueeze(-1)

    # Slide the projected quad within the frame: 0 puts its box at the left/top edge.
    low = projected.amin(dim=1)
    extent = projected.amax(dim=1) - low
    fraction = torch.stack([conditions.x, conditions.y], dim=-1)
    offset = (image_size - 1 - extent) * fraction - low
    frame_corners = projected + offset.unsqueeze(1)

    patch_corners = torch.tensor(
        [[0.0, 0.0], [width - 1.0, 0.0], [width - 1.0, height - 1.0], [0.0, height - 1.0]],
        device=device,
    ).expand(len(conditions), 4, 2)
    return frame_corners, get_perspective_transform(patch_corners, frame_corners)
