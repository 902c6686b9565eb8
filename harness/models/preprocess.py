"""Image preprocessing of a classifier: resize, centre crop and normalisation.

Convention: every classifier in the harness takes RGB images as float tensors of shape
(B, 3, H, W) with values in [0, 1], at the model's input size. Normalisation runs inside the
model (see :class:`harness.models.zoo.Classifier`), so patches, cameras and scenes all work in
plain [0, 1] pixel space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True, kw_only=True)
class Preprocessing:
    """Resize, crop and normalisation settings that turn an image into model input."""

    input_size: int
    """Side of the square model input, in px."""

    resize: int
    """Shorter side after the first resize, in px; the centre crop of ``input_size`` follows."""

    mean: tuple[float, float, float]
    """Per-channel mean subtracted from [0, 1] pixel values."""

    std: tuple[float, float, float]
    """Per-channel standard deviation that divides the centred values."""

    interpolation: str = "bilinear"
    """Resize filter: ``bilinear`` or ``bicubic``."""

    def load(self, image: Image.Image) -> torch.Tensor:
        """Resize, centre-crop and convert a PIL image to a (3, S, S) float tensor in [0, 1]."""
        image = image.convert("RGB")
        width, height = image.size
        scale = self.resize / min(width, height)
        size = (
            max(self.input_size, round(width * scale)),
            max(self.input_size, round(height * scale)),
        )
        resample = (
            Image.Resampling.BICUBIC
            if self.interpolation == "bicubic"
            else Image.Resampling.BILINEAR
        )
        image = image.resize(size, resample)

        left = (size[0] - self.input_size) // 2
        top = (size[1] - self.input_size) // 2
        image = image.crop((left, top, left + self.input_size, top + self.input_size))
        return to_tensor(np.asarray(image))

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """Normalise (B, 3, H, W) images in [0, 1]; differentiable."""
        mean = images.new_tensor(self.mean).view(1, 3, 1, 1)
        std = images.new_tensor(self.std).view(1, 3, 1, 1)
        return (images - mean) / std


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """Convert an (H, W, 3) uint8 RGB array to a (3, H, W) float tensor in [0, 1]."""
    return torch.from_numpy(np.array(pixels, dtype=np.uint8)).permute(2, 0, 1).float().div(255.0)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# The TensorFlow EfficientNet-Lite checkpoints were trained on (pixel - 127) / 128.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
