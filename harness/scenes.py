"""Scene images: the default set from ``skimage.data`` or a user folder with optional labels.

Scenes are the backgrounds that calibration, agreement checks and patch optimisation run on.
A scene set splits deterministically into a calibration part and an evaluation part, so
that the images a variant is calibrated or distilled on are never the ones it is scored on.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from harness.errors import DataError
from harness.models.preprocess import Preprocessing

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

# Photographs of everyday objects that ship inside scikit-image (no download needed); the
# last three are greyscale and are used as grey RGB images.
SKIMAGE_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "clock",
    "coins",
)

# Crops of each default photo, as (left, top, side) fractions of the shorter side. Every crop
# is used once as is and once mirrored, so the seven photos give 84 scenes.
_DEFAULT_CROPS = (
    (0.0, 0.0, 1.0),
    (0.0, 0.0, 0.75),
    (0.25, 0.0, 0.75),
    (0.0, 0.25, 0.75),
    (0.25, 0.25, 0.75),
    (0.2, 0.2, 0.6),
)


@dataclass(frozen=True)
class Scene:
    """One scene image and, when known, its true ImageNet class."""

    name: str
    """File name or ``skimage:<photo>#<crop>``."""

    load: Callable[[], Image.Image] = field(repr=False, compare=False)
    label: int | None = None
    group: str = ""
    """Scenes of the same group (crops of one photo) go to the same side of a split."""


@dataclass(frozen=True)
class SceneSet:
    """An ordered collection of scenes."""

    scenes: tuple[Scene, ...]
    source: str
    """``skimage`` or the folder the images came from."""

    def __len__(self) -> int:
        return len(self.scenes)

    @property
    def labelled(self) -> bool:
        """Whether every scene has a true class."""
        return bool(self.scenes) and all(s.label is not None for s in self.scenes)

    def labels(self) -> torch.Tensor:
        """Return the true classes as a (N,) int64 tensor (labelled sets only)."""
        return torch.tensor([s.label for s in self.scenes], dtype=torch.int64)

    def subset(self, indices: Sequence[int]) -> SceneSet:
        """Return the scenes at ``indices``, in that order."""
        return SceneSet(tuple(self.scenes[i] for i in indices), self.source)

    def limit(self, count: int | None) -> SceneSet:
        """Return the first ``count`` scenes (all when ``count`` is None)."""
        return self if count is None else SceneSet(self.scenes[:count], self.source)

    def split(self) -> tuple[SceneSet, SceneSet]:
        """Split into (calibration, evaluation) halves by a hash of each scene's group.

        The split depends only on the names, so it is the same on every machine and run.
        Default scenes are crops of a few photos, so they split by crop instead, and the
        two halves then overlap in content: use a labelled folder for independent numbers.
        """
        if self.source == "skimage":
            calibration = [i for i, s in enumerate(self.scenes) if _crop_index(s.name) % 2 == 0]
        else:
            keyed = sorted(range(len(self.scenes)), key=lambda i: _hash(self.scenes[i].group))
            calibration = sorted(keyed[: len(keyed) // 2])
        chosen = set(calibration)
        evaluation = [i for i in range(len(self.scenes)) if i not in chosen]
        return self.subset(calibration), self.subset(evaluation)

    def tensors(self, preprocessing: Preprocessing) -> torch.Tensor:
        """Load every scene as model input: (N, 3, S, S) float in [0, 1]."""
        if not self.scenes:
            return torch.empty(0, 3, preprocessing.input_size, preprocessing.input_size)
        return torch.stack([preprocessing.load(scene.load()) for scene in self.scenes])

    def fingerprint(self) -> str:
        """Return a hash of the scene names and pixels, used in cache keys."""
        digest = hashlib.sha256()
        for scene in self.scenes:
            digest.update(scene.name.encode())
            digest.update(np.asarray(scene.load().convert("RGB")).tobytes())
        return digest.hexdigest()[:16]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _crop_index(name: str) -> int:
    return int(name.rsplit("#", 1)[1])


def default_scenes() -> SceneSet:
    """Return 84 scenes: crops of the seven photos that ship with scikit-image."""
    import skimage.data

    scenes = []
    for photo in SKIMAGE_PHOTOS:
        loader: Callable[[], np.ndarray] = getattr(skimage.data, photo)
        for index in range(2 * len(_DEFAULT_CROPS)):
            crop = _DEFAULT_CROPS[index // 2]
            mirrored = index % 2 == 1
            scenes.append(
                Scene(
                    name=f"skimage:{photo}#{index}",
                    load=_skimage_loader(loader, crop, mirrored),
                    group=photo,
                )
            )
    return SceneSet(tuple(scenes), "skimage")


def _skimage_loader(
    loader: Callable[[], np.ndarray], crop: tuple[float, float, float], mirrored: bool
) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        pixels = loader()
        height, width = pixels.shape[:2]
        short = min(height, width)
        side = round(crop[2] * short)
        top = (
            round(crop[1] * short) + (height - short) // 2 if crop[2] < 1 else (height - side) // 2
        )
        left = round(crop[0] * short) + (width - short) // 2 if crop[2] < 1 else (width - side) // 2
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        image = Image.fromarray(pixels[top : top + side, left : left + side, :3])
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirrored else image

    return load


def load_scenes(images: Path | None = None, labels: Path | None = None) -> SceneSet:
    """Load the default scenes, or every image in a folder with optional labels.

    ``labels`` is a CSV with a header containing ``file`` and ``class_index`` (or ``index``).
    Only the images listed in it are used when it is given.

    Raises:
        DataError: the folder is missing or contains no images, or the labels are unreadable.
    """
    if images is None:
        if labels is not None:
            raise DataError(f"--labels {str(labels)!r} needs --images DIR with the labelled images")
        return default_scenes()

    if not images.is_dir():
        raise DataError(f"image folder {str(images)!r} not found: give an existing folder")
    files = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(
            f"image folder {str(images)!r} contains no images ({', '.join(IMAGE_SUFFIXES)}): "
            "give a folder of photos"
        )

    if labels is None:
        scenes = tuple(Scene(p.name, _file_loader(p), None, p.name) for p in files)
        return SceneSet(scenes, str(images))

    table = read_labels(labels)
    by_name = {p.name: p for p in files}
    missing = [name for name in table if name not in by_name]
    if missing:
        raise DataError(
            f"{len(missing)} files listed in {str(labels)!r} are not in {str(images)!r} "
            f"(first: {missing[0]!r}): fix the CSV or the folder"
        )
    scenes = tuple(
        Scene(name, _file_loader(by_name[name]), label, name) for name, label in table.items()
    )
    return SceneSet(scenes, str(images))


def _file_loader(path: Path) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        try:
            with Image.open(path) as image:
                image.load()
                return image.convert("RGB")
        except (OSError, UnidentifiedImageError) as error:
            raise DataError(
                f"cannot read image {str(path)!r}: {error}; remove or replace it"
            ) from error

    return load


def read_labels(path: Path) -> dict[str, int]:
    """Read a labels CSV into {file name: class index}, keeping the file's order.

    Raises:
        DataError: the file is missing, lacks the columns, or has a non-integer class.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise DataError(f"cannot read labels {str(path)!r}: {error}") from error

    if not rows:
        raise DataError(
            f"labels file {str(path)!r} is empty: expected a header and one row per image"
        )
    columns = rows[0].keys()
    column = next((c for c in ("class_index", "index", "label") if c in columns), None)
    if "file" not in columns or column is None:
        raise DataError(
            f"labels file {str(path)!r} has columns {sorted(columns)}: expected file,class_index"
        )

    table: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        try:
            table[row["file"]] = int(row[column])
        except (TypeError, ValueError) as error:
            raise DataError(
                f"labels file {str(path)!r} line {line}: class {row[column]!r} is not an integer"
            ) from error
    return table
