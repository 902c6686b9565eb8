"""Paper sizes that sheets are laid out for."""

from __future__ import annotations

from enum import Enum

from harness.errors import InvalidArgumentError

MARGIN_MM = 8.0
"""Blank border kept on every side of the page, in mm: most printers cannot ink the outer 5 mm."""


class Paper(Enum):
    """A sheet of paper in portrait orientation; the value is the CLI name."""

    A4 = "a4"
    LETTER = "letter"

    @property
    def width_mm(self) -> float:
        """Page width in mm."""
        return _SIZES_MM[self][0]

    @property
    def height_mm(self) -> float:
        """Page height in mm."""
        return _SIZES_MM[self][1]

    @property
    def label(self) -> str:
        """Name as printed on a sheet, e.g. ``A4``."""
        return "A4" if self is Paper.A4 else "Letter"

    @classmethod
    def parse(cls, text: str) -> Paper:
        """Turn a CLI value such as ``A4`` or ``letter`` into a paper size.

        Raises:
            InvalidArgumentError: the name is not a supported paper size.
        """
        key = text.strip().lower().replace("us-", "").replace("us_", "")
        for paper in cls:
            if paper.value == key:
                return paper
        valid = ", ".join(paper.value for paper in cls)
        raise InvalidArgumentError(f"--paper {text!r} is not supported: expected one of {valid}")


_SIZES_MM = {Paper.A4: (210.0, 297.0), Paper.LETTER: (215.9, 279.4)}
