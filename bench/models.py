"""Latency of every variant at batch 1 and 8, side by side in one process.

Run from the repository root:
.venv/bin/python -m bench.models [--model efficientnet-lite0] [--rounds 30]

Variants are built with PTQ on 32 default scenes (the method does not change inference
cost). Each torch variant also runs as its ONNX Runtime twin (the same roundings, exported;
the fast path for scoring). Calls are interleaved round-robin across variants, so a busy
spell of the machine hits all variants alike; the table reports the median per image and
the ratio to fp32 eager.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from harness.models.cache import VariantCache
from harness.models.spec import parse_variants
from harness.models.variants import BuildSettings, Variant, build_variant, onnx_twin
from harness.models.zoo import resolve_model
from harness.scenes import default_scenes


def _time_call(variant: Variant, images: torch.Tensor) -> float:
    started = time.perf_counter()
    with torch.no_grad():
        variant(images)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--rounds", type=int, default=30, help="timed calls per variant and batch")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    source = resolve_model(args.model)
    specs = parse_variants(f"{args.model}@32,8:ptq,5:ptq,4:ptq,2:ptq,int8")
    calibration = default_scenes().limit(32).tensors(source.preprocessing)
    # The int8 variant is an ONNX file, so even a one-off run needs a cache folder.
    cache = VariantCache(Path(tempfile.mkdtemp(prefix="bench-models-")))
    built = [
        build_variant(
            spec,
            calibration,
            calibration_id="bench-32",
            cache=cache,
            settings=BuildSettings(calibration_images=32),
        )
        for spec in specs
    ]
    twins = [onnx_twin(variant, cache) for variant in built if variant.module is not None]
    variants = built + twins
    names = [v.spec.name for v in built] + [f"{v.spec.name} (ORT twin)" for v in twins]

    size = source.preprocessing.input_size
    results: dict[int, dict[str, list[float]]] = {}
    for batch in (1, 8):
        images = torch.rand(batch, 3, size, size)
        timings: dict[str, list[float]] = {name: [] for name in names}
        for variant in variants:
            for _ in range(3):
                _time_call(variant, images)
        for _ in range(args.rounds):
            for name, variant in zip(names, variants, strict=True):
                timings[name].append(_time_call(variant, images) / batch)
        results[batch] = timings

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} threads"
    )
    print(f"{'variant':<46} {'b=1 ms':>8} {'ratio':>6} {'b=8 ms/img':>11} {'ratio':>6}")
    fp32 = specs[0].name
    base = {batch: statistics.median(results[batch][fp32]) for batch in results}
    for name in names:
        cells = []
        for batch in (1, 8):
            median = statistics.median(results[batch][name])
            cells += [f"{median * 1000:8.2f}", f"{median / base[batch]:6.2f}"]
        print(f"{name:<46} {cells[0]} {cells[1]} {cells[2]:>11} {cells[3]}")


if __name__ == "__main__":
    main()
