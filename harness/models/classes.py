"""ImageNet-1k class names, shipped with the package, and lookup by index or name."""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from harness.errors import InvalidArgumentError


@dataclass(frozen=True)
class ClassList:
    """Class names of a classifier's output, in logit order."""

    names: tuple[str, ...]
    """One name per logit, e.g. ``great_white_shark``."""

    wnids: tuple[str, ...] = ()
    """WordNet ids in the same order, empty for user class lists."""

    def __len__(self) -> int:
        return len(self.names)

    def name(self, index: int) -> str:
        """Return the name of class ``index``."""
        return self.names[index]

    def resolve(self, value: str | int) -> int:
        """Turn a class index or name into an index, with close-match suggestions for typos.

        Names match case-insensitively, and spaces or hyphens match underscores.

        Raises:
            InvalidArgumentError: the index is out of range, or the name is unknown or ambiguous.
        """
        if isinstance(value, int) or value.strip().isdigit():
            index = int(value)
            if not 0 <= index < len(self.names):
                raise InvalidArgumentError(
                    f"class index {index} is out of range: expected 0..{len(self.names) - 1}"
                )
            return index

        key = _normalise(value)
        matches = [i for i, name in enumerate(self.names) if _normalise(name) == key]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = ", ".join(str(i) for i in matches)
            raise InvalidArgumentError(
                f"class name {value!r} is ambiguous: it names classes {listed}; "
                "give the index instead"
            )

        normalised = [_normalise(name) for name in self.names]
        close = difflib.get_close_matches(key, normalised, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise InvalidArgumentError(f"unknown class name {value!r}{hint}")


def _normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


@cache
def imagenet_classes() -> ClassList:
    """Return the 1000 ILSVRC-2012 classes in the standard order (wnids sorted ascending)."""
    text = resources.files("harness").joinpath("data/imagenet_classes.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    rows.sort(key=lambda row: int(row["index"]))
    return ClassList(
        names=tuple(row["name"] for row in rows),
        wnids=tuple(row["wnid"] for row in rows),
    )
