"""Offline scoring speed: replay a recorded session of 1,000+ frames through six variants.

Run from the repository root:

    OMP_NUM_THREADS=2 .venv/bin/python -m bench.score [--frames 1000] [--threads N]

The session is recorded first, the way a user records one: ``patch-harness live`` reads a
30 fps MJPG video with only the fp32 variant live. The video is 640 × 480 px: a scene photo,
then the printed patch in its ArUco frame turning from -40 to 40 degrees of yaw. The second half of
the frames is marked as the patch phase, and the live results are removed from every line
(unless ``--keep-live``), so replay measures the conditions of every frame again: the
worst case, as in a session where live scored few frames. Then ``score`` replays the session through
efficientnet-lite0@32,8,5,4,2,int8 in ONNX Runtime and the script prints the replay rate
in frames per second and its ratio to the session's recorded rate (above 1: faster than
real time).

Building the variants is not timed: the first run builds the 5-, 4- and 2-bit GPTQ
variants (minutes on 2 cores) into the variant cache, and later runs load them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from harness.capture.session import FRAMES_FILE
from harness.cli import main as cli_main
from harness.commands.score import ScoreRequest, prepare_score, score_prepared
from harness.logs import setup_logging
from harness.models.cache import default_cache_dir
from harness.models.spec import parse_variants
from harness.models.variants import BuildSettings
from harness.scoring.variants import VariantSettings
from tests.live_helpers import FOV_DEG, Pose, draw_sheet, noise_patch, render_view, write_video
from tests.score_helpers import mark_patch_phase, session_frames

VARIANTS = "efficientnet-lite0@32,8,5,4,2,int8"
LOOP_POSES = [Pose(yaw_deg=yaw, pitch_deg=-8.0, distance_mm=350.0) for yaw in range(-40, 41, 2)]
"""Poses the patch frames cycle through: yaw -40..40 degrees in steps of 2."""


def write_session_video(path: Path, frames: int) -> None:
    """Write ``frames`` frames at 30 fps: the first half clean, the rest with the patch."""
    clean = session_frames()[0]
    sheet, marker_frame, origin = draw_sheet(noise_patch(), 100.0)
    patched = [render_view(sheet, marker_frame, origin, pose, clean) for pose in LOOP_POSES]
    clean_count = frames // 2
    video = [clean] * clean_count + [
        patched[index % len(patched)] for index in range(frames - clean_count)
    ]
    write_video(path, video, fps=30.0)


def strip_live_results(session: Path) -> None:
    """Remove the conditions, input regions and predictions that live wrote to each line."""
    path = session / FRAMES_FILE
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    for line in lines:
        line.update(conditions=None, input_region=None, predictions={})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")


def record(folder: Path, frames: int, cache: Path) -> Path:
    """Record the bench video with ``live``; return the session folder."""
    video = folder / "bench.avi"
    write_session_video(video, frames)
    captures = folder / "captures"
    code = cli_main(
        [
            "live",
            str(video),
            "--no-keys",
            "--quiet",
            "--variants",
            "efficientnet-lite0@32",
            "--cache-dir",
            str(cache),
            "--captures",
            str(captures),
            "--fov",
            str(FOV_DEG),
            "--target",
            "toaster",
        ]
    )
    if code != 0:
        raise SystemExit(f"live exited with {code}")
    (session,) = sorted(captures.iterdir())
    mark_patch_phase(session, first_patch_frame=frames // 2)
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frames", type=int, default=1000, help="frames in the session (default: %(default)s)"
    )
    parser.add_argument(
        "--variants", default=VARIANTS, help="variants to score (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="frames per inference batch (default: %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="folder of built variants (default: $HARNESS_CACHE_DIR or ~/.cache/patch-harness)",
    )
    parser.add_argument(
        "--keep-live",
        action="store_true",
        help="keep live's conditions instead of measuring every frame again",
    )
    args = parser.parse_args()

    setup_logging(quiet=True)
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    cache = args.cache_dir or default_cache_dir()
    specs = tuple(parse_variants(args.variants))

    with tempfile.TemporaryDirectory(prefix="bench-score-") as work:
        session = record(Path(work), args.frames, cache)
        if not args.keep_live:
            strip_live_results(session)
        started = time.perf_counter()
        setup = prepare_score(
            ScoreRequest(
                session=session,
                variants=specs,
                run="bench",
                batch_size=args.batch_size,
                variant_settings=VariantSettings(
                    cache_dir=cache, build=BuildSettings(), threads=threads
                ),
            )
        )
        result = score_prepared(setup)
        total_s = time.perf_counter() - started

    summary = result.summary
    timing = summary["timing"]
    replayed = summary["frames"]["replayed"]
    fps = timing["frames_per_s"] or 0.0
    recorded = timing["recorded_fps"] or float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"torch {torch.__version__}, threads {threads}, batch {args.batch_size}")
    print(f"variants: {', '.join(variant['name'] for variant in summary['variants'])}")
    print(f"frames replayed: {replayed} of {summary['frames']['lines']}")
    measured = "kept from live" if args.keep_live else "measured again on every frame"
    print(f"conditions: {measured}")
    print(f"replay: {timing['replay_s']:.1f} s, {fps:.1f} frames/s")
    print(f"recorded rate: {recorded:.1f} frames/s")
    print(f"ratio to the recorded rate: {fps / recorded:.2f} (above 1: faster than real time)")
    print(f"score command in all, with variant loading: {total_s:.1f} s")


if __name__ == "__main__":
    main()
