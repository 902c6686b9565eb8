"""A scored session as the report reads it: the session, its score summary and frame rows.

The summary is the JSON document of :mod:`harness.scoring.output`; :class:`VariantView`
gives typed access to the parts the report shows.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.capture.salvage import SalvagedSession, salvage_session
from harness.errors import DataError
from harness.scoring.output import KIND, SCORES_FOLDER, VERSION


@dataclass(frozen=True, kw_only=True)
class RateView:
    """A rate from the summary: ``count`` of ``total``, with its Wilson 95 % interval."""

    count: int
    total: int
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, document: dict[str, Any] | None) -> RateView | None:
        """Return the rate of a summary entry; None when absent or over no frames."""
        if document is None or not document["total"]:
            return None
        return cls(
            count=document["count"],
            total=document["total"],
            rate=document["rate"],
            low=document["low"],
            high=document["high"],
        )


@dataclass(frozen=True, kw_only=True)
class BinView:
    """One condition bin of one variant, patch phase."""

    label: str
    low: float
    high: float
    """Edges in the condition's unit; ``high`` is inf for an open last bin."""

    patch: RateView | None
    """The headline rate of the patch phase: targeted success, or misclassification in an
    untargeted session."""

    patch_frames: int


@dataclass(frozen=True, kw_only=True)
class VariantView:
    """One variant's line of the summary."""

    name: str
    bits: str
    agreement: float
    degenerate: bool
    white_box: bool | None
    clean_frames: int
    patch_frames: int
    clean_success: RateView | None
    patch_success: RateView | None
    patch_misclassification: RateView | None
    clean_misclassification: RateView | None
    success_difference: float | None
    bins: dict[str, list[BinView]]
    """Bins by condition name (``yaw_deg``, ``distance_m``...)."""

    @property
    def is_float(self) -> bool:
        """Whether this is the unquantized model."""
        return self.bits == "32"


@dataclass(frozen=True)
class ScoredSession:
    """A session folder with one of its score runs."""

    folder: Path
    salvaged: SalvagedSession
    summary: dict[str, Any]
    rows: list[dict[str, str]]
    """The per-frame CSV rows, one per frame and variant."""

    @property
    def variants(self) -> list[VariantView]:
        """The scored variants, in scoring order."""
        return [_variant_view(item, self.targeted) for item in self.summary["variants"]]

    @property
    def run(self) -> str:
        """Name of the score run."""
        name: str = self.summary["run"]
        return name

    @property
    def targeted(self) -> bool:
        """Whether the session has a target class."""
        return self.summary["target"] is not None


def load_scored(folder: Path, run: str | None = None) -> ScoredSession:
    """Read a session and its score run ``run`` (default: the newest).

    Raises:
        SessionError: ``folder`` is not a session.
        DataError: the session has no score run, ``run`` is not found, or its files are not
            a score summary of this version.
    """
    salvaged = salvage_session(folder)
    scores = folder / SCORES_FOLDER
    if run is None:
        runs = sorted(scores.glob("*.json"), key=lambda path: path.stat().st_mtime)
        if not runs:
            raise DataError(
                f"{folder} has no score run in {scores}: run `patch-harness score {folder}` first"
            )
        path = runs[-1]
    else:
        path = scores / f"{run}.json"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in scores.glob("*.json"))) or "none"
            raise DataError(f"score run {run!r} not found in {scores}: runs there: {known}")

    try:
        summary = json.loads(path.read_text("utf-8"))
        with path.with_suffix(".csv").open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as error:
        raise DataError(f"cannot read score run {path}: {error}") from None
    if not isinstance(summary, dict) or (summary.get("kind"), summary.get("version")) != (
        KIND,
        VERSION,
    ):
        raise DataError(
            f"{path} is not a score summary of version {VERSION}: score the session again"
        )
    return ScoredSession(folder, salvaged, summary, rows)


def _variant_view(item: dict[str, Any], targeted: bool) -> VariantView:
    summary = item["summary"]
    phases = summary["phases"]
    difference = summary["success_difference"]
    bins = {
        condition: [
            BinView(
                label=entry["label"],
                low=entry["low"] if entry["low"] is not None else -math.inf,
                high=entry["high"] if entry["high"] is not None else math.inf,
                patch=RateView.of(
                    entry["phases"]["patch"]["success" if targeted else "misclassification"]
                ),
                patch_frames=entry["phases"]["patch"]["frames"],
            )
            for entry in entries
        ]
        for condition, entries in summary["bins"].items()
    }
    return VariantView(
        name=item["name"],
        bits=item["bits"],
        agreement=item["agreement"] if item["agreement"] is not None else math.nan,
        degenerate=item["degenerate"],
        white_box=item["white_box"],
        clean_frames=phases["clean"]["frames"],
        patch_frames=phases["patch"]["frames"],
        clean_success=RateView.of(phases["clean"]["success"]),
        patch_success=RateView.of(phases["patch"]["success"]),
        patch_misclassification=RateView.of(phases["patch"]["misclassification"]),
        clean_misclassification=RateView.of(phases["clean"]["misclassification"]),
        success_difference=None if difference is None else difference["value"],
        bins=bins,
    )
