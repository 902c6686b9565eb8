"""A simulated recording: a clean phase and a patch phase over the same scenes and views.

Frame i of the patch phase and frame i of the clean phase show the same scene under the
same camera effects, so a score can compare them pair by pair. Only the clean frame has
no sheet in view. Scenes change in equal runs of frames, as a camera pointed at one
scene after another would see them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from harness.calibration.color import ColorProfile
from harness.capture.pose import Intrinsics, estimate_pose, measure_conditions
from harness.capture.session import Conditions, Phase, TrueConditions
from harness.errors import InvalidArgumentError
from harness.printing.markers import detect_markers, patch_frame
from harness.scenes import SceneSet
from harness.simulate.camera import VirtualCamera, fit_background, sheet_resolution
from harness.simulate.conditions import ViewConditions, ViewRanges, sample_views
from harness.simulate.sheet import PrintedSheet, print_sheet


@dataclass(frozen=True, kw_only=True)
class SimulationSettings:
    """Frame size, printed size, frame counts and conditions of a simulated recording."""

    size: tuple[int, int] = (1280, 720)
    """(width, height) of the frames in px."""

    size_mm: float = 100.0
    """Printed side of the patch, mm."""

    clean_frames: int = 30
    patch_frames: int = 90
    fps: float = 30.0
    """Frame rate stamped on the frames (frame i is at i / fps s)."""

    scenes: int = 4
    """Scenes shown one after another in each phase."""

    seed: int = 0
    ranges: ViewRanges = field(default_factory=ViewRanges)
    script: tuple[ViewConditions, ...] = ()
    """Conditions of the patch frames in order; when given, ``ranges`` and ``patch_frames``
    are not used."""


@dataclass(frozen=True)
class SimulatedFrame:
    """One rendered frame with what it shows."""

    phase: Phase
    image: NDArray[np.uint8]
    """(H, W, 3) BGR."""

    truth: TrueConditions

    view: ViewConditions
    """The view of the frame; a clean frame shares it with its paired patch frame."""


def check_fits(settings: SimulationSettings, intrinsics: Intrinsics) -> None:
    """Reject conditions under which the sheet cannot be fully in view.

    Raises:
        InvalidArgumentError: at the nearest distance the cut sheet, facing the camera, is
            taller or wider than the frame.
    """
    nearest = (
        min(view.distance_m for view in settings.script)
        if settings.script
        else settings.ranges.distance_m.low
    )
    left, top, right, bottom = patch_frame(settings.size_mm).cut_bounds_mm()
    focal = float(intrinsics.camera_matrix[0, 0])
    extent_px = max(right - left, bottom - top) * focal / (nearest * 1000.0)
    width, height = settings.size
    if extent_px > min(width, height):
        fitting = max(right - left, bottom - top) * focal / min(width, height) / 1000.0
        raise InvalidArgumentError(
            f"--distance minimum {nearest:g} m is impossible for a {settings.size_mm:g} mm patch: "
            f"its sheet would span {extent_px:.0f} px of a {width}x{height} px frame; use a "
            f"distance of at least {math.ceil(fitting * 100) / 100:g} m or a smaller --size-mm"
        )


class Simulation:
    """Renders the frames of a simulated recording in order.

    Args:
        patch_rgb: (N, N, 3) patch as printed, see ``load_patch_rgb``.
        settings: frame size, counts and conditions.
        scenes: the scene set to draw backgrounds from.
        intrinsics: the virtual camera at ``settings.size``.
        profile: printer+camera colour profile; None keeps digital colour.
    """

    def __init__(
        self,
        patch_rgb: NDArray[np.uint8],
        settings: SimulationSettings,
        scenes: SceneSet,
        intrinsics: Intrinsics,
        profile: ColorProfile | None,
    ) -> None:
        self.settings = settings
        self.camera = VirtualCamera(intrinsics=intrinsics, size=settings.size)
        self._rng = np.random.default_rng(settings.seed)
        self.views = (
            list(settings.script)
            if settings.script
            else sample_views(settings.ranges, settings.patch_frames, self._rng)
        )
        nearest = min(view.distance_m for view in self.views)
        self.sheet: PrintedSheet = print_sheet(
            patch_rgb,
            settings.size_mm,
            px_per_mm=sheet_resolution(self.camera, nearest),
            profile=profile,
        )
        count = min(settings.scenes, len(scenes))
        picks = sorted(self._rng.choice(len(scenes), size=count, replace=False).tolist())
        self.scenes = scenes.subset(picks)
        self._backgrounds: dict[int, NDArray[np.uint8]] = {}

    @property
    def frame_count(self) -> int:
        """Frames of both phases together."""
        return self.settings.clean_frames + len(self.views)

    def frames(self) -> Iterator[SimulatedFrame]:
        """Yield the clean phase, then the patch phase."""
        for index in range(self.settings.clean_frames):
            yield self.render(index, self.settings.clean_frames, Phase.CLEAN)
        for index in range(len(self.views)):
            yield self.render(index, len(self.views), Phase.PATCH)

    def render(self, index: int, phase_frames: int, phase: Phase) -> SimulatedFrame:
        """Render frame ``index`` of a phase of ``phase_frames`` frames."""
        scene_index = index * len(self.scenes) // phase_frames
        scene = self.scenes.scenes[scene_index]
        if scene_index not in self._backgrounds:
            # One scene at a time is kept: the phases walk through the scenes in order.
            self._backgrounds = {scene_index: fit_background(scene.load(), self.settings.size)}
        view = self.views[index % len(self.views)]
        sheet = self.sheet if phase is Phase.PATCH else None
        image, truth = self.camera.render(
            self._backgrounds[scene_index], sheet, view, self._rng, scene.name
        )
        return SimulatedFrame(phase=phase, image=image, truth=truth, view=view)

    def patch_corners(self, view: ViewConditions) -> NDArray[np.float64]:
        """Return the (4, 2) patch corners in frame px under ``view``, top-left first and
        clockwise, whether or not the sheet is drawn."""
        # Homogeneous plane points: (x, y, 1) in mm, from the corners that pose estimation uses.
        corners_mm = self.sheet.frame.content_corners_mm()
        corners_mm[:, 2] = 1.0
        projected = corners_mm @ self.camera.image_from_plane(self.sheet, view).T
        return np.asarray(projected[:, :2] / projected[:, 2:], dtype=np.float64)

    def measure(self, image: NDArray[np.uint8]) -> Conditions:
        """Return the conditions that ``live`` would measure on a (H, W, 3) BGR frame."""
        found = detect_markers(np.ascontiguousarray(image[..., ::-1]))
        pose = estimate_pose(found, self.sheet.frame, self.camera.intrinsics, self.settings.size)
        grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        return measure_conditions(grey, pose, found)
