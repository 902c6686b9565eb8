import pytest

from harness.errors import InvalidArgumentError
from harness.models.classes import imagenet_classes


def test_imagenet_list_order() -> None:
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert classes.name(0) == "tench"
    assert classes.name(859) == "toaster"
    assert classes.name(999) == "toilet_tissue"
    assert list(classes.wnids) == sorted(classes.wnids)


def test_resolve_by_name_and_index() -> None:
    classes = imagenet_classes()
    assert classes.resolve("toaster") == 859
    assert classes.resolve("Great White Shark") == 2
    assert classes.resolve("great-white-shark") == 2
    assert classes.resolve("859") == 859
    assert classes.resolve(3) == 3


def test_resolve_typo_suggests() -> None:
    with pytest.raises(InvalidArgumentError, match="did you mean 'toaster'"):
        imagenet_classes().resolve("toastr")


def test_resolve_ambiguous_name() -> None:
    # 'crane' is both the bird (134) and the machine (517) in the Keras class index.
    with pytest.raises(InvalidArgumentError, match="134, 517"):
        imagenet_classes().resolve("crane")


def test_resolve_index_out_of_range() -> None:
    with pytest.raises(InvalidArgumentError, match=r"0\.\.999"):
        imagenet_classes().resolve(1000)
