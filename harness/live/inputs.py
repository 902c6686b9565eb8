"""Model input from a camera frame: the region the variants see, resized as in training.

Convention: regions are (left, top, right, bottom) in frame px, with right and bottom
exclusive. Frames are (H, W, 3) BGR uint8 images, as OpenCV reads them.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from harness.models.preprocess import Preprocessing, to_tensor

Region = tuple[int, int, int, int]


def input_region(
    image_size: tuple[int, int], corners_px: NDArray[np.float64] | None, crop_scale: float | None
) -> Region:
    """Return the frame region that the variants see.

    Args:
        image_size: (width, height) of the frame in px.
        corners_px: (4, 2) patch corners in the frame, or None when the patch is not seen.
        crop_scale: side of a square around the patch centre as a multiple of the patch's
            larger extent in px; None, or no patch in view, gives the whole frame.

    The square is moved to lie inside the frame, and shrinks to the frame's shorter side
    when it is larger.
    """
    width, height = image_size
    if crop_scale is None or corners_px is None:
        return 0, 0, width, height

    extent = float(np.max(corners_px.max(axis=0) - corners_px.min(axis=0)))
    side = round(min(max(extent * crop_scale, 1.0), width, height))
    centre_x, centre_y = corners_px.mean(axis=0)
    left = int(np.clip(round(centre_x - side / 2.0), 0, width - side))
    top = int(np.clip(round(centre_y - side / 2.0), 0, height - side))
    return left, top, left + side, top + side


def model_input(
    frame: NDArray[np.uint8], region: Region, preprocessing: Preprocessing
) -> torch.Tensor:
    """Return a (3, S, S) float tensor in [0, 1] of a frame region, as ``preprocessing.load``
    makes it from that region.

    ``Preprocessing.load`` resizes the region so that its shorter side is ``resize`` px and
    keeps the centre ``input_size`` square. Here that square is mapped back to frame px and
    resized alone with the same PIL filter. The output pixels and the filter footprint are
    the same, so the result matches, while the cost is a fraction of resizing the whole frame.
    """
    left, top, right, bottom = region
    width, height = right - left, bottom - top
    size = preprocessing.input_size

    # The resized size and integer crop offsets exactly as Preprocessing.load computes them.
    scale = preprocessing.resize / min(width, height)
    resized_width = max(size, round(width * scale))
    resized_height = max(size, round(height * scale))
    scale_x, scale_y = resized_width / width, resized_height / height
    box_left = left + ((resized_width - size) // 2) / scale_x
    box_top = top + ((resized_height - size) // 2) / scale_y
    box_right, box_bottom = box_left + size / scale_x, box_top + size / scale_y

    # Convert only the pixels the filter reads: the box plus a margin for its support.
    margin = int(np.ceil(max(1.0 / scale_x, 1.0 / scale_y))) * 2 + 2
    x0 = max(left, int(np.floor(box_left)) - margin)
    y0 = max(top, int(np.floor(box_top)) - margin)
    x1 = min(right, int(np.ceil(box_right)) + margin)
    y1 = min(bottom, int(np.ceil(box_bottom)) + margin)
    rgb = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)

    resample = (
        Image.Resampling.BICUBIC
        if preprocessing.interpolation == "bicubic"
        else Image.Resampling.BILINEAR
    )
    box = (box_left - x0, box_top - y0, box_right - x0, box_bottom - y0)
    image = Image.fromarray(np.asarray(rgb, dtype=np.uint8)).resize((size, size), resample, box=box)
    return to_tensor(np.asarray(image))
