"""Text of the QR code on a patch sheet, so that a recorded frame can be matched to its sheet.

The text is one line of ``key=value`` fields separated by ``;`` after the prefix
``patch-harness``, for example
``patch-harness;id=3f2a9c1b7d40;target=859;printed=2026-12-04;size_mm=50,100``.
``target`` is a class index or ``-`` for an untargeted patch.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import DataError

PREFIX = "patch-harness"


@dataclass(frozen=True, kw_only=True)
class SheetCode:
    """Content of the QR code of one printed page."""

    patch_id: str
    target_index: int | None
    """ImageNet class index of a targeted patch, None when untargeted."""

    printed: str
    """Print date, ISO 8601 (YYYY-MM-DD)."""

    sizes_mm: tuple[float, ...]
    """Patch sides printed on this page, in mm."""

    def encode(self) -> str:
        """Return the QR text of this page."""
        target = "-" if self.target_index is None else str(self.target_index)
        sizes = ",".join(format_mm(size) for size in self.sizes_mm)
        return f"{PREFIX};id={self.patch_id};target={target};printed={self.printed};size_mm={sizes}"

    @classmethod
    def decode(cls, text: str) -> SheetCode:
        """Parse the text of a sheet's QR code.

        Raises:
            DataError: the text was not written by :meth:`encode`.
        """
        prefix, _, rest = text.strip().partition(";")
        fields = dict(item.partition("=")[::2] for item in rest.split(";") if item)
        expected = {"id", "target", "printed", "size_mm"}
        if prefix != PREFIX or not expected <= fields.keys():
            raise DataError(f"QR text {text!r} is not a patch-harness sheet code")
        try:
            target = None if fields["target"] == "-" else int(fields["target"])
            sizes = tuple(float(size) for size in fields["size_mm"].split(","))
        except ValueError as error:
            raise DataError(f"QR text {text!r} has an invalid field: {error}") from None
        return cls(
            patch_id=fields["id"], target_index=target, printed=fields["printed"], sizes_mm=sizes
        )


def format_mm(value: float) -> str:
    """Format a length in mm without a trailing ``.0``: 50.0 becomes ``50``, 62.5 stays."""
    return f"{value:g}"
