from pathlib import Path

import pytest
from PIL import Image

from harness.errors import DataError
from harness.models.zoo import resolve_model
from harness.scenes import default_scenes, load_scenes, read_labels


def test_default_scenes_split() -> None:
    scenes = default_scenes()
    calibration, evaluation = scenes.split()
    assert len(scenes) == 84
    assert len(calibration) == 42
    assert len(evaluation) == 42
    assert not {s.name for s in calibration.scenes} & {s.name for s in evaluation.scenes}


def test_default_scene_pixels() -> None:
    scenes = default_scenes().limit(2)
    images = scenes.tensors(resolve_model("efficientnet-lite0").preprocessing)
    assert images.shape == (2, 3, 224, 224)
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    # Scene 1 is scene 0 mirrored.
    assert (images[0].flip(-1) - images[1]).abs().max() < 1e-6


def _write_images(folder: Path, count: int) -> None:
    for index in range(count):
        Image.new("RGB", (40, 30), (index * 20, 100, 50)).save(folder / f"img{index}.png")


def test_folder_split_is_disjoint_and_stable(tmp_path: Path) -> None:
    _write_images(tmp_path, 10)
    first = load_scenes(tmp_path).split()
    second = load_scenes(tmp_path).split()
    assert [s.name for s in first[0].scenes] == [s.name for s in second[0].scenes]
    names = [s.name for part in first for s in part.scenes]
    assert sorted(names) == sorted(f"img{i}.png" for i in range(10))
    assert len(first[0]) == 5


def test_labels_csv(tmp_path: Path) -> None:
    _write_images(tmp_path, 3)
    labels = tmp_path / "labels.csv"
    labels.write_text("file,class_index\nimg0.png,7\nimg2.png,859\n")
    scenes = load_scenes(tmp_path, labels)
    assert [s.name for s in scenes.scenes] == ["img0.png", "img2.png"]
    assert scenes.labels().tolist() == [7, 859]
    assert scenes.labelled


def test_empty_folder_rejected(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="contains no images"):
        load_scenes(tmp_path)


def test_missing_folder_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_scenes(tmp_path / "absent")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("name,label_id\na.png,1\n", "expected file,class_index"),
        ("file,class_index\na.png,cat\n", "line 2: class 'cat' is not an integer"),
    ],
)
def test_bad_labels_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_labels(path)


def test_labels_naming_missing_file(tmp_path: Path) -> None:
    _write_images(tmp_path, 1)
    labels = tmp_path / "labels.csv"
    labels.write_text("file,class_index\nimg0.png,1\nghost.png,2\n")
    with pytest.raises(DataError, match=r"'ghost\.png'"):
        load_scenes(tmp_path, labels)
