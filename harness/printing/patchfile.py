"""Patch folders: ``printables/<patch-id>/`` with ``patch.png``, ``patch.json`` and a mask.

The contract that ``generate`` writes and ``print`` reads:

- ``patch.png``: the patch, RGB or RGBA, square. Transparent pixels print as paper.
- ``mask.png`` (optional): grey, same size; black pixels print as paper, white as the patch.
- ``patch.json``: at least ``{"id": str, "target": {"index": int, "name": str} | null,
  "created": ISO-8601 str}``; ``target`` is null for an untargeted patch. Other keys are
  kept and ignored here.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from harness.errors import DataError, InvalidArgumentError

PATCH_IMAGE = "patch.png"
PATCH_MASK = "mask.png"
PATCH_JSON = "patch.json"

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ID_LENGTH = 12
"""Hex digits of a content-hash patch id."""


@dataclass(frozen=True, kw_only=True)
class PatchTarget:
    """The class a targeted patch pushes the classifier to."""

    index: int
    """ImageNet-1k class index, 0..999."""

    name: str


@dataclass(frozen=True, kw_only=True)
class PatchInfo:
    """A patch folder as read from ``patch.json``."""

    patch_id: str
    target: PatchTarget | None
    """None for an untargeted patch."""

    created: str
    """Creation time, ISO 8601."""

    folder: Path

    @property
    def image_path(self) -> Path:
        """Path of ``patch.png``."""
        return self.folder / PATCH_IMAGE

    @property
    def mask_path(self) -> Path:
        """Path of the optional ``mask.png``."""
        return self.folder / PATCH_MASK

    @property
    def target_text(self) -> str:
        """Target as printed on a sheet, e.g. ``toaster (class 859)`` or ``untargeted``."""
        if self.target is None:
            return "untargeted"
        return f"{self.target.name} (class {self.target.index})"


def check_patch_id(patch_id: str) -> str:
    """Return ``patch_id`` when it is usable as a folder name.

    Raises:
        InvalidArgumentError: the id is empty or has characters other than letters, digits,
            ``.``, ``_`` and ``-``.
    """
    if not _ID_PATTERN.fullmatch(patch_id):
        raise InvalidArgumentError(
            f"patch id {patch_id!r} is invalid: expected letters, digits, '.', '_' or '-'"
        )
    return patch_id


def read_patch(root: Path, patch_id: str) -> PatchInfo:
    """Read ``root/<patch_id>/patch.json`` and check that ``patch.png`` is there.

    Raises:
        DataError: the folder, ``patch.json`` or ``patch.png`` is missing, or the JSON does
            not follow the contract in the module docstring.
    """
    folder = root / check_patch_id(patch_id)
    description = folder / PATCH_JSON
    if not description.is_file():
        raise DataError(
            f"patch {patch_id!r} not found: {description} is missing{_hint(root, patch_id)}"
        )
    if not (folder / PATCH_IMAGE).is_file():
        raise DataError(f"patch {patch_id!r} has no image: {folder / PATCH_IMAGE} is missing")

    try:
        data = json.loads(description.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read {description}: {error}") from None
    return _parse_patch_json(data, description, folder)


def _parse_patch_json(data: object, path: Path, folder: Path) -> PatchInfo:
    if not isinstance(data, dict):
        raise DataError(f"{path} is invalid: expected a JSON object")
    patch_id, created, target = data.get("id"), data.get("created"), data.get("target")
    if not isinstance(patch_id, str) or not isinstance(created, str):
        raise DataError(f"{path} is invalid: expected string fields 'id' and 'created'")
    if patch_id != folder.name:
        raise DataError(f"{path} has id {patch_id!r} but lies in folder {folder.name!r}")

    if target is None:
        return PatchInfo(patch_id=patch_id, target=None, created=created, folder=folder)
    index = target.get("index") if isinstance(target, dict) else None
    name = target.get("name") if isinstance(target, dict) else None
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(name, str):
        raise DataError(
            f"{path} has an invalid 'target' {target!r}: expected "
            '{"index": int, "name": str} or null for an untargeted patch'
        )
    return PatchInfo(
        patch_id=patch_id,
        target=PatchTarget(index=index, name=name),
        created=created,
        folder=folder,
    )


def _hint(root: Path, patch_id: str) -> str:
    known = [p.parent.name for p in sorted(root.glob(f"*/{PATCH_JSON}"))]
    if not known:
        return f"; {root} holds no patches yet (run generate, or print --image FILE)"
    close = difflib.get_close_matches(patch_id, known, n=3, cutoff=0.5)
    if close:
        return f"; did you mean {', '.join(repr(name) for name in close)}?"
    shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
    return f"; patches in {root}: {shown}"


def load_patch_rgb(info: PatchInfo) -> NDArray[np.uint8]:
    """Return the patch as printed: (H, W, 3) uint8 RGB, transparency and mask over white.

    Raises:
        DataError: an image is unreadable, the patch is not square, or the mask's size differs.
    """
    image = _open_image(info.image_path)
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
    height, width = rgba.shape[:2]
    if height != width:
        raise DataError(f"{info.image_path} is {width}x{height} px: expected a square patch image")

    coverage = rgba[..., 3:]
    if info.mask_path.is_file():
        mask = np.asarray(_open_image(info.mask_path).convert("L"), dtype=np.float64) / 255.0
        if mask.shape != (height, width):
            raise DataError(
                f"{info.mask_path} is {mask.shape[1]}x{mask.shape[0]} px: "
                f"expected the size of {PATCH_IMAGE}, {width}x{height} px"
            )
        coverage = coverage * mask[..., None]

    # Paper is white: blend the patch over white by its coverage.
    printed = rgba[..., :3] * coverage + (1.0 - coverage)
    return np.round(printed * 255.0).astype(np.uint8)


def _open_image(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise DataError(f"image {path} not found") from None
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"cannot read image {path}: {error}") from None
    return image


def content_patch_id(pixels: NDArray[np.uint8], target: PatchTarget | None) -> str:
    """Return a patch id: the first 12 hex digits of SHA-256 over pixels, shape and target.

    The target takes part so that one image printed for two targets gets two folders.
    """
    digest = hashlib.sha256()
    digest.update(repr(pixels.shape).encode())
    digest.update(np.ascontiguousarray(pixels).tobytes())
    digest.update(b"untargeted" if target is None else f"target={target.index}".encode())
    return digest.hexdigest()[:ID_LENGTH]


def import_patch_image(image_path: Path, target: PatchTarget | None, root: Path) -> PatchInfo:
    """Copy a patch PNG made elsewhere into ``root/<id>/`` with a minimal ``patch.json``.

    Importing the same image and target again reuses the folder and its creation time.

    Raises:
        DataError: the image is missing, unreadable or not square.
    """
    image = _open_image(image_path)
    mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    pixels = np.asarray(image.convert(mode), dtype=np.uint8)
    height, width = pixels.shape[:2]
    if height != width:
        raise DataError(f"{image_path} is {width}x{height} px: expected a square patch image")

    patch_id = content_patch_id(pixels, target)
    folder = root / patch_id
    if (folder / PATCH_JSON).is_file():
        return read_patch(root, patch_id)

    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(folder / PATCH_IMAGE)
    description = {
        "id": patch_id,
        "target": None if target is None else {"index": target.index, "name": target.name},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": {"image": str(image_path)},
    }
    (folder / PATCH_JSON).write_text(json.dumps(description, indent=2) + "\n", "utf-8")
    return read_patch(root, patch_id)
