"""A real recorded session for the scoring and report tests, made by ``live`` from a video.

The video shows a scene photo alone, then with the printed patch and its ArUco frame at
known poses. ``live --no-keys`` records every frame in the clean phase, so the helper
marks the frames that show the patch as the patch phase, as pressing space would have.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.capture.session import FRAMES_FILE
from harness.cli import main
from harness.scenes import default_scenes
from tests.live_helpers import (
    IMAGE_SIZE,
    Pose,
    draw_sheet,
    live_command,
    noise_patch,
    render_view,
    write_video,
)

CLEAN_FRAMES = 10
POSES = [Pose(yaw_deg=yaw, pitch_deg=-8.0, distance_mm=350.0) for yaw in range(-40, 41, 4)]
"""Poses of the patch after the clean frames: 21 frames, yaw -40..40 degrees."""


def session_frames() -> list[NDArray[np.uint8]]:
    """Return the clean frames of a scene photo, then the frames with the patch (BGR)."""
    coffee = next(s for s in default_scenes().scenes if s.name == "skimage:coffee#0")
    photo = np.asarray(coffee.load().convert("RGB"), dtype=np.uint8)
    resized = cv2.resize(photo, IMAGE_SIZE, interpolation=cv2.INTER_AREA)
    background = np.ascontiguousarray(resized[..., ::-1], dtype=np.uint8)
    sheet, marker_frame, origin = draw_sheet(noise_patch(), 100.0)
    patched = [render_view(sheet, marker_frame, origin, pose, background) for pose in POSES]
    return [background.copy() for _ in range(CLEAN_FRAMES)] + patched


def record_session(folder: Path, cache: Path) -> Path:
    """Record the video of :func:`session_frames` with ``live``; return the session folder."""
    video = folder / "scene.avi"
    write_video(video, session_frames(), fps=30.0)
    captures = folder / "captures"
    command = live_command(str(video), cache=cache, captures=captures, agreement_images=8)
    code = main([*command, "--no-keys", "--quiet", "--segment-seconds", "0.25"])
    if code != 0:
        raise RuntimeError(f"live exited with {code}")
    (session,) = sorted(captures.iterdir())
    mark_patch_phase(session, first_patch_frame=CLEAN_FRAMES)
    return session


def mark_patch_phase(session: Path, first_patch_frame: int) -> None:
    """Set the phase of every line from ``first_patch_frame`` on to ``patch``."""
    path = session / FRAMES_FILE
    lines = []
    for line in path.read_text("utf-8").splitlines():
        document = json.loads(line)
        if document["index"] >= first_patch_frame:
            document["phase"] = "patch"
        lines.append(json.dumps(document, separators=(",", ":")))
    path.write_text("\n".join(lines) + "\n", "utf-8")
