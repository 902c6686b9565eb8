"""A plain-language conclusion drawn from one session's numbers.

Each sentence states a number from the summary. A comparison between variants is claimed
only when their Wilson 95 % intervals do not overlap. Degenerate variants are left out,
because a broken model is not a robust one.
"""

from __future__ import annotations

from harness.report.scores import BinView, RateView, ScoredSession, VariantView
from harness.report.strings import Strings

FEW_PATCH_FRAMES = 30
"""Below this many patch frames the conclusion warns that the intervals are wide."""

MIN_BIN_FRAMES = 3
"""Condition bins with fewer patch frames are not compared, and not drawn as points."""


def conclusion(scored: ScoredSession, text: Strings) -> list[str]:
    """Return the conclusion's sentences."""
    variants = scored.variants
    usable = [variant for variant in variants if not variant.degenerate]
    sentences = []

    patch_frames = max((variant.patch_frames for variant in variants), default=0)
    if patch_frames == 0:
        return [text("conclusion_no_patch")]
    if not scored.targeted:
        sentences.append(text("conclusion_untargeted"))
        sentences.extend(_misclassification(usable, text))

    rated = [(variant, variant.patch_success) for variant in usable]
    rated_present = [(variant, rate) for variant, rate in rated if rate is not None]
    if rated_present:
        best, best_rate = max(rated_present, key=lambda pair: pair[1].rate)
        worst, worst_rate = min(rated_present, key=lambda pair: pair[1].rate)
        if best_rate.count == 0:
            return [*sentences, text("conclusion_none", frames=patch_frames), *_tail(scored, text)]
        sentences.append(
            text(
                "conclusion_best",
                variant=best.name,
                rate=percent(best_rate.rate),
                low=percent(best_rate.low),
                high=percent(best_rate.high),
                clean=percent(best.clean_success.rate)
                if best.clean_success
                else text("not_available"),
            )
        )
        if worst_rate.rate < best_rate.rate:
            sentences.append(
                text(
                    "conclusion_worst",
                    variant=worst.name,
                    rate=percent(worst_rate.rate),
                    low=percent(worst_rate.low),
                    high=percent(worst_rate.high),
                )
            )
        sentences.extend(_against_float(rated_present, text))
        sentences.extend(_angle(best, text))

    return sentences + _tail(scored, text)


def _tail(scored: ScoredSession, text: Strings) -> list[str]:
    """Return the sentences on transfer, degenerate variants and the number of frames."""
    sentences = []
    groups = scored.summary.get("groups")
    if groups is not None:
        white = groups["white_box"]["mean_success"]
        transfer = groups["transfer"]["mean_success"]
        if white is not None and transfer is not None:
            sentences.append(
                text("conclusion_transfer", white=percent(white), transfer=percent(transfer))
            )

    variants = scored.variants
    degenerate = [variant.name for variant in variants if variant.degenerate]
    if degenerate:
        sentences.append(
            text("conclusion_degenerate", count=len(degenerate), names=", ".join(degenerate))
        )
    patch_frames = max((variant.patch_frames for variant in variants), default=0)
    if patch_frames < FEW_PATCH_FRAMES:
        sentences.append(text("conclusion_few", frames=patch_frames))
    return sentences


def percent(value: float) -> str:
    """Format a fraction as a whole percentage, e.g. ``42 %``."""
    return f"{value * 100:.0f} %"


def _misclassification(variants: list[VariantView], text: Strings) -> list[str]:
    """Return one sentence per variant on its misclassification with and without the patch."""
    sentences = []
    for variant in variants:
        patch, clean = variant.patch_misclassification, variant.clean_misclassification
        if patch is None:
            continue
        sentences.append(
            text(
                "conclusion_miscls",
                variant=variant.name,
                rate=percent(patch.rate),
                low=percent(patch.low),
                high=percent(patch.high),
                clean=text("not_available") if clean is None else percent(clean.rate),
            )
        )
    return sentences


def _against_float(rated: list[tuple[VariantView, RateView]], text: Strings) -> list[str]:
    float_rates = [rate for variant, rate in rated if variant.is_float]
    if not float_rates:
        return []
    reference = float_rates[0]
    sentences = [text("conclusion_fp32", rate=percent(reference.rate))]
    # A variant is fooled more often only when its interval lies wholly above fp32's.
    above = [(variant, rate) for variant, rate in rated if rate.low > reference.high]
    if above:
        strongest = max(above, key=lambda pair: pair[1].rate)
        sentences.append(
            text(
                "conclusion_lower_bits",
                bits=", ".join(variant.bits for variant, _ in above),
                rate=percent(strongest[1].rate),
                reference=percent(reference.rate),
            )
        )
    else:
        sentences.append(text("conclusion_no_lower_bits"))
    return sentences


def _angle(variant: VariantView, text: Strings) -> list[str]:
    # In an untargeted session the bins hold misclassification, which this sentence is not about.
    if variant.patch_success is None:
        return []
    bins: list[BinView] = [
        entry
        for entry in variant.bins.get("yaw_deg", [])
        if entry.patch is not None and entry.patch_frames >= MIN_BIN_FRAMES
    ]
    if len(bins) < 2:
        return []
    best = max(bins, key=lambda entry: entry.patch.rate if entry.patch else 0.0)
    worst = min(bins, key=lambda entry: entry.patch.rate if entry.patch else 0.0)
    if best.patch is None or worst.patch is None or best.patch.rate == worst.patch.rate:
        return []
    return [text("conclusion_angle", variant=variant.name, best=best.label, worst=worst.label)]
