"""Files of an evaluation: ``evaluation.json``, CSV tables and PNG figures.

- ``asr.csv``: one row per (patch, variant): mean and sample standard deviation of the
  targeted attack success rate over the repeats, in [0, 1].
- ``asr-runs.csv``: one row per (patch, variant, repeat) with that repeat's rate.
- ``transfer.csv`` and ``transfer-std.csv``: the transfer matrix, rows = the patch's source
  (the variants it was made on), columns = the variant attacked; mean and std.
- ``asr.png``, ``transfer.png`` and ``features-<layer>.png``: the same as figures.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from harness.evaluate.features import FeatureMaps
from harness.evaluate.protocol import ProtocolSettings, SuccessRuns
from harness.patch.artifacts import package_versions


@dataclass(frozen=True, kw_only=True)
class VariantSummary:
    """A variant's clean behaviour on the evaluation scenes."""

    name: str
    agreement: float
    """Top-1 agreement with fp32 on the clean scenes, in [0, 1]."""

    degenerate: bool
    """Agreement below 50 %: the variant is broken, not robust."""

    accuracy: float | None
    """Top-1 accuracy on the clean scenes when they are labelled, in [0, 1]."""


@dataclass(frozen=True, kw_only=True)
class PatchRow:
    """One patch's results: its source, target and success per variant."""

    label: str
    target: int
    target_name: str
    clean_target_rate: dict[str, float]
    """Fraction of the eligible clean scenes already classified as the target, per variant:
    the rate without the patch."""

    success: dict[str, SuccessRuns]


@dataclass(frozen=True, kw_only=True)
class EvaluationFacts:
    """The protocol and scenes of an evaluation, as ``evaluation.json`` records them."""

    settings: ProtocolSettings
    color_profile: str | None
    scene_limit: int | None
    images: Path | None
    labels: Path | None
    held_out: int
    """Held-out scenes evaluated (before leaving out those of each target)."""


def evaluation_document(
    facts: EvaluationFacts,
    summaries: Sequence[VariantSummary],
    rows: Sequence[PatchRow],
    layers: Sequence[str],
    maps: dict[str, FeatureMaps],
) -> dict[str, Any]:
    """Return the content of ``evaluation.json``."""
    settings = facts.settings
    names = [summary.name for summary in summaries]
    return {
        "kind": "patch-harness/evaluation",
        "version": 1,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "protocol": {
            "repeats": settings.repeats,
            "seed": settings.seed,
            "placement": settings.ranges.to_json(),
            "color_profile": facts.color_profile,
            "scene_limit": facts.scene_limit,
        },
        "scenes": {
            "source": str(facts.images) if facts.images else "skimage",
            "labels": str(facts.labels) if facts.labels else None,
            "held_out": facts.held_out,
        },
        "variants": [
            {
                "name": summary.name,
                "agreement": summary.agreement,
                "degenerate": summary.degenerate,
                "accuracy": summary.accuracy,
            }
            for summary in summaries
        ],
        "patches": [
            {
                "label": row.label,
                "target": {"index": row.target, "name": row.target_name},
                "success": {
                    name: {
                        "mean": row.success[name].mean,
                        "std": row.success[name].std,
                        "rates": list(row.success[name].rates),
                        "scenes": row.success[name].scenes,
                        "clean_target_rate": row.clean_target_rate[name],
                    }
                    for name in names
                },
            }
            for row in rows
        ],
        "transfer": transfer_document(rows, names),
        "features": {
            "patch": rows[0].label,
            "layers": list(layers),
            "mean_activation": {
                name: {
                    layer: {
                        "clean": float(variant_maps.clean[layer].mean()),
                        "patched": float(variant_maps.patched[layer].mean()),
                    }
                    for layer in layers
                }
                for name, variant_maps in maps.items()
            },
        },
        "versions": package_versions(),
    }


def write_tables(
    folder: Path,
    rows: Sequence[PatchRow],
    variants: Sequence[str],
    degenerate: frozenset[str] = frozenset(),
) -> list[Path]:
    """Write ``asr.csv``, ``asr-runs.csv``, ``transfer.csv`` and ``transfer-std.csv``.

    Variants named in ``degenerate`` are flagged in a column of ``asr.csv`` and in the
    column headers of the transfer tables: a broken model must not read as a robust one.
    """
    paths = [folder / name for name in ("asr.csv", "asr-runs.csv")]
    with paths[0].open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "patch",
                "target",
                "variant",
                "asr_mean",
                "asr_std",
                "repeats",
                "scenes",
                "clean",
                "degenerate",
            ]
        )
        for row in rows:
            for name in variants:
                runs = row.success[name]
                writer.writerow(
                    [
                        row.label,
                        row.target_name,
                        name,
                        f"{runs.mean:.4f}",
                        f"{runs.std:.4f}",
                        len(runs.rates),
                        runs.scenes,
                        f"{row.clean_target_rate[name]:.4f}",
                        "yes" if name in degenerate else "no",
                    ]
                )
    with paths[1].open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["patch", "variant", "repeat", "asr"])
        for row in rows:
            for name in variants:
                for repeat, rate in enumerate(row.success[name].rates):
                    writer.writerow([row.label, name, repeat, f"{rate:.4f}"])

    for file_name, statistic in (("transfer.csv", "mean"), ("transfer-std.csv", "std")):
        path = folder / file_name
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(
                ["source \\ target", *(_flagged(name, degenerate, " ") for name in variants)]
            )
            for row in rows:
                values = [getattr(row.success[name], statistic) for name in variants]
                writer.writerow([row.label, *(f"{value:.4f}" for value in values)])
        paths.append(path)
    return paths


def transfer_document(rows: Sequence[PatchRow], variants: Sequence[str]) -> dict[str, Any]:
    """Return the transfer matrix as JSON: rows, columns, mean and std in [0, 1]."""
    return {
        "rows": [row.label for row in rows],
        "columns": list(variants),
        "mean": [[row.success[name].mean for name in variants] for row in rows],
        "std": [[row.success[name].std for name in variants] for row in rows],
    }


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_asr(
    path: Path,
    rows: Sequence[PatchRow],
    variants: Sequence[str],
    degenerate: frozenset[str] = frozenset(),
) -> None:
    """Plot the mean attack success per variant with ±1 std as bars, one group per patch."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(max(6.0, 1.2 * len(variants) * len(rows)), 4.0))
    width = 0.8 / len(rows)
    positions = np.arange(len(variants))
    for number, row in enumerate(rows):
        means = [100 * row.success[name].mean for name in variants]
        stds = [100 * row.success[name].std for name in variants]
        axis.bar(positions + number * width, means, width, yerr=stds, capsize=3, label=row.label)
    axis.set_xticks(positions + width * (len(rows) - 1) / 2)
    axis.set_xticklabels(
        [_flagged(_short(name), degenerate, "\n", name) for name in variants], rotation=20
    )
    axis.set_ylabel("targeted attack success, % (mean ± std)")
    axis.set_ylim(0, 100)
    axis.legend(title="patch made on", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_transfer(
    path: Path,
    rows: Sequence[PatchRow],
    variants: Sequence[str],
    degenerate: frozenset[str] = frozenset(),
) -> None:
    """Plot the transfer matrix as a heat map, each cell labelled mean ± std in %."""
    plt = _pyplot()
    means = np.array([[100 * row.success[name].mean for name in variants] for row in rows])
    stds = np.array([[100 * row.success[name].std for name in variants] for row in rows])
    figure, axis = plt.subplots(
        figsize=(1.6 + 1.4 * len(variants), 1.2 + 0.7 * len(rows)), squeeze=True
    )
    image = axis.imshow(means, vmin=0, vmax=100, cmap="viridis", aspect="auto")

    for row in range(means.shape[0]):
        for column in range(means.shape[1]):
            colour = "black" if means[row, column] > 60 else "white"
            axis.text(
                column,
                row,
                f"{means[row, column]:.0f}±{stds[row, column]:.0f}",
                ha="center",
                va="center",
                color=colour,
                fontsize=8,
            )

    axis.set_xticks(range(len(variants)))
    axis.set_xticklabels(
        [_flagged(_short(name), degenerate, "\n", name) for name in variants], rotation=20
    )
    axis.set_yticks(range(len(rows)))
    axis.set_yticklabels([row.label for row in rows], fontsize=8)
    axis.set_xlabel("target variant")
    axis.set_ylabel("patch made on")
    figure.colorbar(image, ax=axis, label="attack success, %")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_features(
    folder: Path, layers: Sequence[str], maps: dict[str, FeatureMaps], title: str
) -> list[Path]:
    """Plot one figure per layer: rows = variants, columns = clean, patched and their difference."""
    plt = _pyplot()
    paths = []
    for number, layer in enumerate(layers):
        figure, axes = plt.subplots(len(maps), 3, figsize=(7.5, 2.4 * len(maps)), squeeze=False)
        for row, (name, variant_maps) in enumerate(maps.items()):
            clean = variant_maps.clean[layer].numpy()
            patched = variant_maps.patched[layer].numpy()
            low = float(min(clean.min(), patched.min()))
            high = float(max(clean.max(), patched.max()))
            difference = patched - clean
            spread = float(np.abs(difference).max()) or 1.0
            panels = (
                (clean, "clean", "viridis", low, high),
                (patched, "patched", "viridis", low, high),
                (difference, "patched - clean", "coolwarm", -spread, spread),
            )
            for column, (values, caption, colours, vmin, vmax) in enumerate(panels):
                axis = axes[row, column]
                axis.imshow(values, cmap=colours, vmin=vmin, vmax=vmax)
                axis.set_xticks([])
                axis.set_yticks([])
                if row == 0:
                    axis.set_title(caption, fontsize=9)
                if column == 0:
                    axis.set_ylabel(_short(name), fontsize=8)
        figure.suptitle(f"{title}: mean activation of {layer}", fontsize=9)
        figure.tight_layout()
        path = folder / f"features-{number}-{_file_part(layer)}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        paths.append(path)
    return paths


def _flagged(text: str, degenerate: frozenset[str], separator: str, name: str = "") -> str:
    """Return ``text`` with ``(degenerate)`` after it when its variant is degenerate."""
    return f"{text}{separator}(degenerate)" if (name or text) in degenerate else text


def _short(name: str) -> str:
    return name.partition("@")[2] or name


def _file_part(layer: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", layer).strip("-") or "layer"
