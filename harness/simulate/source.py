"""The virtual camera as a frame source of ``live``: ``sim:PATCH[,KEY=VALUE...]``.

``PATCH`` is a patch folder (with ``patch.png``) or a patch image. Keys:

- ``size_mm``: printed side of the patch, mm (default 100);
- ``clean``: frames of the scene alone before the sheet comes into view (default 30);
- ``frames``: frames with the sheet, after which the source ends (default: endless);
- ``seed``: random seed (default 0); ``fov``: horizontal field of view, degrees (default 60);
- ``scenes``: scenes shown one after another (default 4).

Frames are 1280x720 px unless ``--resolution`` sets another size, at 30 frames per second
unless ``--fps`` sets another rate. The conditions are sampled from the default ranges of
``simulate``. The true conditions are not recorded by ``live``; ``simulate`` records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from harness.capture.pose import Intrinsics
from harness.capture.reader import CaptureSettings, Frame, FrameReader, SourceSpec
from harness.capture.session import Phase
from harness.errors import DataError, SourceError
from harness.printing.patchfile import PATCH_IMAGE, PATCH_MASK
from harness.scenes import default_scenes
from harness.simulate.run import Simulation, SimulationSettings, check_fits

PREFIX = "sim:"
DEFAULT_SIZE = (1280, 720)
"""Frame size without ``--resolution``, (width, height) in px."""

VIEWS_PER_CYCLE = 300
"""An endless source repeats its sampled views after this many frames."""


@dataclass(frozen=True, kw_only=True)
class SimSource:
    """A ``sim:`` location, parsed."""

    patch: Path
    size_mm: float = 100.0
    clean: int = 30
    frames: int | None = None
    seed: int = 0
    fov_deg: float = 60.0
    scenes: int = 4


_KEYS = {"size_mm": float, "clean": int, "frames": int, "seed": int, "fov": float, "scenes": int}


def parse_sim_location(text: str) -> SimSource:
    """Parse ``sim:PATCH[,KEY=VALUE...]`` and check that the patch exists.

    Raises:
        SourceError: an unknown key or a value that is not a number or out of range.
        DataError: the patch folder or image does not exist.
    """
    path_text, *items = text.strip()[len(PREFIX) :].split(",")
    values: dict[str, float | int] = {}
    for item in items:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or key not in _KEYS:
            raise SourceError(
                f"sim source option {item!r} is invalid: expected KEY=VALUE with KEY one of "
                f"{', '.join(_KEYS)}"
            )
        try:
            values[key] = _KEYS[key](value)
        except ValueError:
            raise SourceError(
                f"sim source option {item!r} is invalid: expected a number for {key}"
            ) from None

    patch = Path(path_text)
    if not path_text or not (patch.is_file() or (patch / PATCH_IMAGE).is_file()):
        raise DataError(
            f"sim source patch {path_text!r} not found: expected a patch folder with "
            f"{PATCH_IMAGE} or a patch image, e.g. sim:printables/PATCH_ID"
        )
    source = SimSource(
        patch=patch,
        size_mm=float(values.get("size_mm", 100.0)),
        clean=int(values.get("clean", 30)),
        frames=int(values["frames"]) if "frames" in values else None,
        seed=int(values.get("seed", 0)),
        fov_deg=float(values.get("fov", 60.0)),
        scenes=int(values.get("scenes", 4)),
    )
    frames_valid = source.frames is None or source.frames >= 1
    if not (source.size_mm > 0 and source.clean >= 0 and source.scenes >= 1 and frames_valid):
        raise SourceError(
            f"sim source {text!r} is invalid: expected size_mm > 0, clean >= 0, frames >= 1 "
            "and scenes >= 1"
        )
    if not 0 < source.fov_deg < 180:
        raise SourceError(f"sim source {text!r} is invalid: expected 0 < fov < 180 degrees")
    return source


def printed_pixels(path: Path) -> NDArray[np.uint8]:
    """Return a patch folder's or image's (N, N, 3) RGB as printed: transparency over white.

    Raises:
        DataError: the image cannot be read.
    """
    image_path = path / PATCH_IMAGE if path.is_dir() else path
    try:
        with Image.open(image_path) as opened:
            rgba = np.asarray(opened.convert("RGBA"), dtype=np.float64) / 255.0
        coverage = rgba[..., 3:]
        mask_path = image_path.with_name(PATCH_MASK)
        if path.is_dir() and mask_path.is_file():
            with Image.open(mask_path) as opened:
                mask = np.asarray(opened.convert("L"), dtype=np.float64) / 255.0
            coverage = coverage * mask[..., None]
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"cannot read patch image {str(image_path)!r}: {error}") from None
    printed = rgba[..., :3] * coverage + (1.0 - coverage)
    return np.round(printed * 255.0).astype(np.uint8)


class SimReader(FrameReader):
    """Frames of the virtual camera: the clean scenes, then the printed patch in them."""

    def __init__(self, spec: SourceSpec, settings: CaptureSettings) -> None:
        from harness.calibration.color import generic_profile

        self.spec = spec
        source = parse_sim_location(spec.location)
        size = (
            (settings.width, settings.height)
            if settings.width is not None and settings.height is not None
            else DEFAULT_SIZE
        )
        self.fps = settings.fps or 30.0
        simulation_settings = SimulationSettings(
            size=size,
            size_mm=source.size_mm,
            clean_frames=source.clean,
            patch_frames=source.frames or VIEWS_PER_CYCLE,
            fps=self.fps,
            scenes=source.scenes,
            seed=source.seed,
        )
        intrinsics = Intrinsics.assumed(size, source.fov_deg)
        check_fits(simulation_settings, intrinsics)
        # NOTE: the source uses the generic colour profile; simulate takes --color-profile.
        self._simulation = Simulation(
            printed_pixels(source.patch),
            simulation_settings,
            default_scenes(),
            intrinsics,
            generic_profile(),
        )
        self._clean = source.clean
        self._frames = source.frames
        self._next = 0

    def read(self) -> Frame | None:
        index = self._next
        if self._frames is not None and index >= self._clean + self._frames:
            return None
        self._next += 1
        if index < self._clean:
            return self._simulation.render(index, self._clean, Phase.CLEAN).image
        views = len(self._simulation.views)
        return self._simulation.render((index - self._clean) % views, views, Phase.PATCH).image

    def close(self) -> None:
        self._frames = 0
        self._clean = 0
