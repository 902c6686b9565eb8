"""Files of a generated patch: images, ``patch.json``, the loss plot and the EOT preview."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from harness.patch.optimize import StepRecord


def upsample(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resample a (C, H, W) image in [0, 1] to ``size`` px with a bicubic filter."""
    if image.shape[-1] == size:
        return image
    return F.interpolate(image[None], size=(size, size), mode="bicubic", align_corners=False)[
        0
    ].clamp(0, 1)


def to_pixels(image: torch.Tensor) -> np.ndarray:
    """Convert a (C, H, W) float image in [0, 1] to an (H, W, C) uint8 array (C = 1 squeezed)."""
    pixels = (image.detach().cpu().clamp(0, 1) * 255.0).round().to(torch.uint8)
    array = pixels.permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[-1] == 1 else array


def package_versions() -> dict[str, str]:
    """Return the versions of the packages that shape a patch."""
    versions = {}
    for name in ("patch-harness", "torch", "kornia", "numpy", "onnxruntime"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as indented UTF-8 JSON, atomically."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    partial.replace(path)


def save_png(path: Path, image: torch.Tensor) -> None:
    """Save a (3, H, W) or (1, H, W) image in [0, 1] as PNG."""
    Image.fromarray(to_pixels(image)).save(path)


def plot_history(path: Path, history: Sequence[StepRecord], title: str) -> None:
    """Plot loss terms and batch success against the step and save a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [record.step + 1 for record in history]
    figure, (loss_axis, success_axis) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    loss_axis.plot(steps, [r.loss for r in history], label="total")
    loss_axis.plot(steps, [r.attack for r in history], label="attack")
    loss_axis.plot(steps, [r.nps for r in history], label="NPS")
    loss_axis.plot(steps, [r.tv for r in history], label="TV")
    loss_axis.set_ylabel("loss")
    loss_axis.legend()
    loss_axis.set_title(title)

    window = max(1, len(history) // 20)
    success = np.convolve([r.success for r in history], np.ones(window) / window, mode="same")
    success_axis.plot(steps, 100.0 * success)
    success_axis.set_ylim(0, 100)
    success_axis.set_ylabel(f"batch success, % (mean of {window} steps)")
    success_axis.set_xlabel("step")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_preview(path: Path, frames: torch.Tensor, captions: Sequence[str]) -> None:
    """Save a grid of (N, 3, S, S) rendered frames with one caption each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(frames)
    columns = min(4, count)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3.2 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < count:
            axis.imshow(to_pixels(frames[index]))
            axis.set_title(captions[index], fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
