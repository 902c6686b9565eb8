"""The patch folder contract: patch.json fields, extra keys, transparency and masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from harness.cli import main
from harness.printing.layout import layout_pages
from harness.printing.paper import Paper
from harness.printing.patchfile import (
    PatchTarget,
    content_patch_id,
    import_patch_image,
    load_patch_rgb,
    read_patch,
)
from tests.printing_helpers import mm_to_px, render_pdf


def _write_folder(root: Path, patch_id: str, description: dict[str, object]) -> Path:
    folder = root / patch_id
    folder.mkdir(parents=True)
    (folder / "patch.json").write_text(json.dumps(description))
    return folder


def test_extra_keys_tolerated(tmp_path: Path) -> None:
    folder = _write_folder(
        tmp_path,
        "run-7",
        {
            "id": "run-7",
            "target": {"index": 859, "name": "toaster", "confidence": 0.9},
            "created": "2026-12-01T10:00:00+00:00",
            "variants": ["efficientnet-lite0@8"],
            "loss_history": [3.2, 1.1],
        },
    )
    Image.new("RGB", (8, 8), (10, 20, 30)).save(folder / "patch.png")
    info = read_patch(tmp_path, "run-7")
    assert info.target == PatchTarget(index=859, name="toaster")
    assert info.created.startswith("2026-12-01")
    assert info.target_text == "toaster (class 859)"


def test_untargeted_patch(tmp_path: Path) -> None:
    folder = _write_folder(
        tmp_path, "u1", {"id": "u1", "target": None, "created": "2026-12-01T10:00:00Z"}
    )
    Image.new("RGB", (8, 8)).save(folder / "patch.png")
    info = read_patch(tmp_path, "u1")
    assert info.target is None
    assert info.target_text == "untargeted"


def test_alpha_and_mask_print_as_paper(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path, "m1", {"id": "m1", "target": None, "created": "2026-12-01"})
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0  # transparent corner
    Image.fromarray(rgba).save(folder / "patch.png")
    mask = np.full((4, 4), 255, dtype=np.uint8)
    mask[3, 3] = 0  # masked-out corner
    Image.fromarray(mask).save(folder / "mask.png")

    printed = load_patch_rgb(read_patch(tmp_path, "m1"))
    assert printed[0, 0].tolist() == [255, 255, 255]
    assert printed[3, 3].tolist() == [255, 255, 255]
    assert printed[1, 1].tolist() == [0, 0, 0]


def test_masked_patch_prints_white(tmp_path: Path) -> None:
    folder = _write_folder(tmp_path, "c1", {"id": "c1", "target": None, "created": "2026-12-01"})
    Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8)).save(folder / "patch.png")
    # A circular mask: the corners of the square print as paper.
    yy, xx = np.mgrid[:64, :64]
    circle = ((yy - 31.5) ** 2 + (xx - 31.5) ** 2 <= 32**2).astype(np.uint8) * 255
    Image.fromarray(circle).save(folder / "mask.png")

    assert main(["print", "c1", "--printables", str(tmp_path), "--size", "60"]) == 0
    (page,) = render_pdf(folder / "c1-60mm.pdf", 100)
    (layout,) = layout_pages((60.0,), Paper.A4)
    x, y = layout.patches[0].origin
    centre = page[mm_to_px(y + 30, 100), mm_to_px(x + 30, 100)]
    corner = page[mm_to_px(y + 2, 100), mm_to_px(x + 2, 100)]
    assert centre.max() < 10
    assert corner.min() > 245


def test_import_is_idempotent(tmp_path: Path) -> None:
    image = tmp_path / "p.png"
    pixels = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)
    Image.fromarray(pixels).save(image)
    target = PatchTarget(index=1, name="goldfish")

    first = import_patch_image(image, target, tmp_path / "printables")
    second = import_patch_image(image, target, tmp_path / "printables")
    untargeted = import_patch_image(image, None, tmp_path / "printables")
    assert first == second
    assert first.patch_id == content_patch_id(pixels, target)
    assert untargeted.patch_id != first.patch_id
    stored = json.loads((first.folder / "patch.json").read_text())
    assert stored["target"] == {"index": 1, "name": "goldfish"}
    assert np.array_equal(np.asarray(Image.open(first.image_path)), pixels)
