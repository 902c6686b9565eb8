"""Patch optimisation speed and success beside ART's AdversarialPatchPyTorch, in one run.

Run from the repository root:
.venv/bin/python -m bench.generate [--steps 200] [--batch 8] [--threads 2]
(needs the bench extra: pip install -e ".[bench]")

Both optimise a square 64 px patch for ``toaster`` against fp32 EfficientNet-Lite0 at
224 px, batch 8, with Adam at step size 0.02, on the training half of the default scenes.
The transforms are comparable: rotation ±20°, perspective, and a patch side of 24.5 to 40 %
of the image (6 to 16 % of its area). The harness runs twice: with those comparable transforms and
with its full EOT (also light, printer colour, blur, noise, JPEG). Each patch is then
rendered on the 42 held-out scenes under the comparable transforms (4 renders per scene),
and the table reports the targeted success and the success of a random patch.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from harness.models.zoo import load_model
from harness.patch.apply import LoadedPatch
from harness.patch.optimize import OptimiseSettings, optimise_patch
from harness.patch.ranges import EotRanges, Span
from harness.patch.shapes import PatchShape, make_mask
from harness.patch.success import success_rates
from harness.scenes import default_scenes

TARGET = 859  # toaster
PATCH_PX = 64
AREA = (0.06, 0.16)

COMPARABLE = EotRanges.geometry_only(
    yaw_deg=Span(-20.0, 20.0),
    pitch_deg=Span(-20.0, 20.0),
    roll_deg=Span(-20.0, 20.0),
    area=Span(*AREA),
)


def run_harness(
    model: torch.nn.Module, scenes: torch.Tensor, steps: int, batch: int, ranges: EotRanges
) -> tuple[LoadedPatch, float]:
    """Optimise with the harness; return the patch and the seconds per step."""
    model = model.to(memory_format=torch.channels_last)
    mask = make_mask(PatchShape.SQUARE, PATCH_PX)
    settings = OptimiseSettings(
        target=TARGET,
        steps=steps,
        batch_size=batch,
        learning_rate=0.02,
        nps_weight=0.0,
        tv_weight=0.0,
        ranges=ranges,
    )
    started = time.perf_counter()
    patch, _ = optimise_patch([(model, 1.0)], scenes, mask, settings)
    return LoadedPatch(patch, mask), (time.perf_counter() - started) / steps


def run_art(
    model: torch.nn.Module, scenes: torch.Tensor, steps: int, batch: int
) -> tuple[LoadedPatch, float]:
    """Optimise with ART; return the patch and the seconds per optimiser step."""
    from art.attacks.evasion import AdversarialPatchPyTorch
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(
        model=model,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=(3, 224, 224),
        nb_classes=1000,
        clip_values=(0.0, 1.0),
        channels_first=True,
    )
    usable = (len(scenes) // batch) * batch
    images = scenes[:usable].numpy()
    steps_per_iteration = usable // batch
    iterations = max(1, steps // steps_per_iteration)
    attack = AdversarialPatchPyTorch(
        classifier,
        rotation_max=20.0,
        scale_min=AREA[0] ** 0.5,
        scale_max=AREA[1] ** 0.5,
        distortion_scale_max=0.2,
        learning_rate=0.02,
        max_iter=iterations,
        batch_size=batch,
        patch_shape=(3, PATCH_PX, PATCH_PX),
        patch_type="square",
        targeted=True,
        verbose=False,
    )
    labels = np.zeros((usable, 1000), dtype=np.float32)
    labels[:, TARGET] = 1.0
    started = time.perf_counter()
    patch, _ = attack.generate(x=images, y=labels)
    seconds = (time.perf_counter() - started) / (iterations * steps_per_iteration)
    image = torch.from_numpy(np.asarray(patch, dtype=np.float32))
    return LoadedPatch(image, torch.ones(1, PATCH_PX, PATCH_PX)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="optimiser steps of each run")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)

    model = load_model("efficientnet-lite0")
    training_set, held_out_set = default_scenes().split()
    training = training_set.tensors(model.preprocessing)
    held_out = held_out_set.tensors(model.preprocessing)

    runs = {
        "ART AdversarialPatchPyTorch": run_art(model, training, args.steps, args.batch),
        "harness, comparable transforms": run_harness(
            model, training, args.steps, args.batch, COMPARABLE
        ),
        "harness, full EOT": run_harness(
            model, training, args.steps, args.batch, EotRanges(area=Span(*AREA))
        ),
    }

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{args.threads} threads"
    )
    print(
        f"{args.steps} steps, batch {args.batch}, 224 px input, {PATCH_PX} px patch, target toaster"
    )
    print(f"{'run':<34} {'ms/step':>8} {'steps/s':>8} {'vs ART':>7} {'held-out':>9} {'random':>7}")
    art_seconds = runs["ART AdversarialPatchPyTorch"][1]
    for name, (patch, seconds) in runs.items():
        rates = success_rates(model, held_out, patch, TARGET, ranges=COMPARABLE, repeats=4)
        print(
            f"{name:<34} {seconds * 1000:8.0f} {1 / seconds:8.2f} {art_seconds / seconds:6.2f}x "
            f"{rates.patch:9.1%} {rates.control:7.1%}"
        )


if __name__ == "__main__":
    main()
