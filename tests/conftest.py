"""Shared fixtures: the real EfficientNet-Lite0, the ImageNet sample split, a variant cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from harness.models.zoo import Classifier, load_model, resolve_model
from harness.scenes import SceneSet, load_scenes

# Model tests share two cores; more threads than cores only slows them down.
torch.set_num_threads(min(2, os.cpu_count() or 1))


def imagenet_samples() -> Path:
    """Return the labelled ImageNet sample folder, or skip when HARNESS_TEST_DATA is unset."""
    root = os.environ.get("HARNESS_TEST_DATA")
    if not root:
        pytest.skip("HARNESS_TEST_DATA is not set; it names the folder holding imagenet-samples/")
    folder = Path(root) / "imagenet-samples"
    if not (folder / "labels.csv").is_file():
        pytest.fail(f"HARNESS_TEST_DATA={root!r} has no imagenet-samples/labels.csv")
    return folder


@pytest.fixture(scope="session")
def lite0() -> Classifier:
    """The float EfficientNet-Lite0 with its shipped ImageNet weights."""
    return load_model("efficientnet-lite0")


@pytest.fixture(scope="session")
def imagenet_split() -> tuple[SceneSet, SceneSet]:
    """The labelled sample images split into (calibration, evaluation) halves."""
    folder = imagenet_samples()
    return load_scenes(folder, folder / "labels.csv").split()


@pytest.fixture(scope="session")
def evaluation_tensors(
    imagenet_split: tuple[SceneSet, SceneSet],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The evaluation half as Lite0 input (500, 3, 224, 224) and its labels (500,)."""
    _, evaluation = imagenet_split
    preprocessing = resolve_model("efficientnet-lite0").preprocessing
    return evaluation.tensors(preprocessing), evaluation.labels()


@pytest.fixture(scope="session")
def calibration_tensors(imagenet_split: tuple[SceneSet, SceneSet]) -> torch.Tensor:
    """The first 128 images of the calibration half as Lite0 input."""
    calibration, _ = imagenet_split
    preprocessing = resolve_model("efficientnet-lite0").preprocessing
    return calibration.limit(128).tensors(preprocessing)


@pytest.fixture(scope="session")
def default_scene_tensors() -> torch.Tensor:
    """The 84 default scikit-image scenes as Lite0 input."""
    from harness.scenes import default_scenes

    return default_scenes().tensors(resolve_model("efficientnet-lite0").preprocessing)


@pytest.fixture(scope="session")
def variant_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the tests of one run."""
    return tmp_path_factory.mktemp("variant-cache")
