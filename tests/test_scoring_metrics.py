"""Rates, Wilson intervals, bins and the reference label against cases worked out by hand.

Wilson 95 % interval with z = 1.959964 (z² = 3.841459), for k successes in n trials and
p = k / n:

    centre = (p + z²/2n) / (1 + z²/n)
    half   = z · sqrt(p(1 - p)/n + z²/4n²) / (1 + z²/n)

3/10:  denominator 1.384146, centre 0.492073 / 1.384146 = 0.355507,
       half 1.959964 · sqrt(0.021 + 0.009604) / 1.384146 = 0.247714 → [0.1078, 0.6032]
0/10:  centre 0.192073 / 1.384146 = 0.138767, half 1.959964 · 0.097998 / 1.384146
       = 0.138767 → [0.0000, 0.2775]
45/50: denominator 1.076829, centre 0.938415 / 1.076829 = 0.871461,
       half 1.959964 · sqrt(0.0018 + 0.000384) / 1.076829 = 0.085063 → [0.7864, 0.9565]
1/4:   denominator 1.960365, centre 0.730182 / 1.960365 = 0.372473,
       half 1.959964 · sqrt(0.046875 + 0.060023) / 1.960365 = 0.326885 → [0.0456, 0.6994]
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import cast

import pytest

from harness.capture.session import Conditions, Phase
from harness.errors import InvalidArgumentError
from harness.scoring.bins import BinEdges, Condition, parse_edges
from harness.scoring.intervals import Rate, difference_interval, wilson_interval
from harness.scoring.outcomes import FrameOutcome, VariantOutput
from harness.scoring.output import _groups
from harness.scoring.reference import ReferenceSource, choose_reference
from harness.scoring.summary import PhaseStats, VariantSummary, summarise
from harness.scoring.variants import ScoringVariant

FLOAT = "m@32"
LOW = "m@4"
TARGET = 859


def rounded(pair: tuple[float, float]) -> tuple[float, float]:
    return round(pair[0], 4), round(pair[1], 4)


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        (3, 10, (0.1078, 0.6032)),
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),  # the mirror image of 0/10
        (45, 50, (0.7864, 0.9565)),
        (1, 4, (0.0456, 0.6994)),
    ],
)
def test_wilson_by_hand(count: int, total: int, expected: tuple[float, float]) -> None:
    assert rounded(wilson_interval(count, total)) == expected


def test_wilson_edge_cases() -> None:
    # No trials: no interval rather than a division by zero.
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))
    assert math.isnan(Rate(count=0, total=0).value)
    with pytest.raises(ValueError, match="count 11 is invalid"):
        wilson_interval(11, 10)


def test_difference_interval_by_hand() -> None:
    # 9/10 minus 1/10 = 0.8. Wilson: 9/10 → [0.5958, 0.9821], 1/10 → [0.0179, 0.4042].
    # low  = 0.8 - sqrt((0.9 - 0.5958)² + (0.4042 - 0.1)²) = 0.8 - 0.4302 = 0.3698
    # high = 0.8 + sqrt((0.9821 - 0.9)² + (0.1 - 0.0179)²) = 0.8 + 0.1161 = 0.9161
    low, high = difference_interval(Rate(count=9, total=10), Rate(count=1, total=10))
    assert low == pytest.approx(0.3698, abs=2e-4)
    assert round(high, 4) == 0.9161


def test_bins_half_open_last_closed() -> None:
    edges = BinEdges({Condition.YAW: (-30.0, -10.0, 10.0, 30.0)})
    cases = {-30.0: 0, -10.0: 1, 9.99: 1, 10.0: 2, 30.0: 2, 30.01: None, -31.0: None, None: None}
    for value, expected in cases.items():
        assert edges.bin_of(Condition.YAW, value) == expected, value
    assert edges.labels(Condition.YAW) == ["[-30, -10)", "[-10, 10)", "[10, 30]"]


def test_bin_edges_parsing() -> None:
    assert parse_edges("--distance-bins", "0,0.5,inf") == (0.0, 0.5, math.inf)
    with pytest.raises(InvalidArgumentError, match="--yaw-bins '10,0' is invalid"):
        parse_edges("--yaw-bins", "10,0")
    with pytest.raises(InvalidArgumentError, match="comma-separated numbers"):
        parse_edges("--yaw-bins", "a,b")
    with pytest.raises(InvalidArgumentError, match="at least two edges"):
        parse_edges("--yaw-bins", "5")
    with pytest.raises(InvalidArgumentError, match=r"e\.g\. 0,0\.5,1,inf"):
        parse_edges("--distance-bins", "abc", example="0,0.5,1,inf")


def frame(index: int, phase: Phase, yaw: float | None, fp32: int, low: int) -> FrameOutcome:
    conditions = Conditions(markers=(), luminance=0.3, sharpness=0.01, yaw_deg=yaw)
    outputs = {
        FLOAT: VariantOutput(top1=fp32, probability=0.5),
        LOW: VariantOutput(top1=low, probability=0.5),
    }
    return FrameOutcome(
        index=index, time_s=index / 30, phase=phase, conditions=conditions, outputs=outputs
    )


# Four clean frames, then six with the patch; the last has no pose.
FRAMES = [
    frame(0, Phase.CLEAN, None, 5, 5),
    frame(1, Phase.CLEAN, None, 5, 7),
    frame(2, Phase.CLEAN, None, 7, 7),
    frame(3, Phase.CLEAN, None, 5, TARGET),
    frame(4, Phase.PATCH, -20.0, TARGET, TARGET),
    frame(5, Phase.PATCH, -5.0, 5, TARGET),
    frame(6, Phase.PATCH, 0.0, TARGET, TARGET),
    frame(7, Phase.PATCH, 5.0, 5, TARGET),
    frame(8, Phase.PATCH, 20.0, 5, 5),
    frame(9, Phase.PATCH, None, 5, 7),
]


def test_reference_fp32_majority() -> None:
    # fp32 on the clean frames: 5, 5, 7, 5 → class 5 with 3 of 4 votes.
    reference = choose_reference(FRAMES, true_class=None, reference_variant=FLOAT)
    assert reference.source is ReferenceSource.FP32_MAJORITY
    assert reference.label == 5
    assert (reference.votes, reference.clean_frames) == (3, 4)


def test_reference_true_class_wins() -> None:
    reference = choose_reference(FRAMES, true_class=42, reference_variant=FLOAT)
    assert reference.source is ReferenceSource.TRUE_CLASS
    assert reference.label == 42


def test_reference_tie_takes_smaller_class() -> None:
    # Two votes each for 9 and 3, in that order: the smaller class index wins, not the first.
    tied = [frame(i, Phase.CLEAN, None, label, 0) for i, label in enumerate([9, 3, 9, 3])]
    reference = choose_reference(tied, true_class=None, reference_variant=FLOAT)
    assert reference.label == 3


def test_reference_without_clean_frames() -> None:
    reference = choose_reference(FRAMES[4:], true_class=None, reference_variant=FLOAT)
    assert reference.source is ReferenceSource.NONE
    assert reference.label is None


def test_summary_rates_by_hand() -> None:
    edges = BinEdges({Condition.YAW: (-30.0, -10.0, 10.0, 30.0)})
    summary = summarise(FRAMES, [FLOAT, LOW], target=TARGET, reference=5, edges=edges)

    # m@4 clean: 5, 7, 7, 859 → success 1/4, misclassified (not 5) 3/4.
    # m@4 patch: 859 ×4, 5, 7 → success 4/6, misclassified 5/6.
    low = summary[LOW]
    clean, patch = low.phases[Phase.CLEAN], low.phases[Phase.PATCH]
    assert clean.success == Rate(count=1, total=4)
    assert clean.misclassification == Rate(count=3, total=4)
    assert patch.success == Rate(count=4, total=6)
    assert patch.misclassification == Rate(count=5, total=6)
    assert (round(clean.success.low, 4), round(clean.success.high, 4)) == (0.0456, 0.6994)

    # Difference 4/6 - 1/4 = 0.4167. Wilson 4/6 → [0.3000, 0.9032].
    # low  = 0.4167 - sqrt((0.6667 - 0.3000)² + (0.6994 - 0.25)²) = 0.4167 - 0.5800 = -0.1633
    # high = 0.4167 + sqrt((0.9032 - 0.6667)² + (0.25 - 0.0456)²) = 0.4167 + 0.3126 = 0.7293
    assert low.success_difference is not None
    assert round(low.success_difference.value, 4) == 0.4167
    assert round(low.success_difference.low, 4) == -0.1633
    assert round(low.success_difference.high, 4) == 0.7293

    # fp32 clean: 5, 5, 7, 5 → success 0/4, misclassified 1/4; patch: 859, 5, 859, 5, 5, 5
    # → success 2/6, misclassified 2/6.
    fp32 = summary[FLOAT]
    assert fp32.phases[Phase.CLEAN].success == Rate(count=0, total=4)
    assert fp32.phases[Phase.CLEAN].misclassification == Rate(count=1, total=4)
    assert fp32.phases[Phase.PATCH].success == Rate(count=2, total=6)
    assert fp32.phases[Phase.PATCH].misclassification == Rate(count=2, total=6)


def test_summary_bins_by_hand() -> None:
    edges = BinEdges({Condition.YAW: (-30.0, -10.0, 10.0, 30.0)})
    summary = summarise(FRAMES, [FLOAT, LOW], target=TARGET, reference=5, edges=edges)

    # Patch yaws -20 | -5, 0, 5 | 20, and one frame without a pose. m@4's labels in those
    # bins: 859 | 859, 859, 859 | 5 → success 1/1, 3/3, 0/1.
    bins = summary[LOW].bins[Condition.YAW]
    assert [b.label for b in bins] == ["[-30, -10)", "[-10, 10)", "[10, 30]"]
    assert [b.phases[Phase.PATCH].success for b in bins] == [
        Rate(count=1, total=1),
        Rate(count=3, total=3),
        Rate(count=0, total=1),
    ]
    # Wilson 3/3: centre (1 + 0.640243) / 2.280486 = 0.719251, half 1.959964 ·
    # sqrt(0 + 0.106707) / 2.280486 = 0.280749 → [0.4385, 1.0000].
    middle = bins[1].phases[Phase.PATCH].success
    assert middle is not None
    assert (round(middle.low, 4), round(middle.high, 4)) == (0.4385, 1.0)
    # The clean frames have no pose, so every bin's clean phase is empty and they count as
    # unbinned with the patch frame that has none.
    assert all(b.phases[Phase.CLEAN].frames == 0 for b in bins)
    assert summary[LOW].unbinned[Condition.YAW] == {Phase.CLEAN: 4, Phase.PATCH: 1}
    # The middle bin's difference is against the whole clean phase: 3/3 - 1/4 = 0.75.
    assert bins[1].success_difference is not None
    assert bins[1].success_difference.value == pytest.approx(0.75)


def test_summary_untargeted_without_reference() -> None:
    summary = summarise(FRAMES, [LOW], target=None, reference=None, edges=BinEdges({}))
    patch = summary[LOW].phases[Phase.PATCH]
    assert patch.frames == 6
    assert patch.success is None
    assert patch.misclassification is None
    assert summary[LOW].success_difference is None


def test_groups_leave_out_degenerate() -> None:
    # Transfer: 8-bit at 30/100 and a degenerate 2-bit at 90/100; the mean is 0.3, not 0.6.
    def summary(name: str, count: int) -> VariantSummary:
        stats = PhaseStats(
            frames=100,
            success=Rate(count=count, total=100),
            misclassification=Rate(count=50, total=100),
        )
        return VariantSummary(
            name=name,
            phases={Phase.PATCH: stats},
            success_difference=None,
            misclassification_difference=None,
            bins={},
            unbinned={},
        )

    names = {"m@32": False, "m@8": False, "m@2": True}
    variants = [SimpleNamespace(name=name, degenerate=flag) for name, flag in names.items()]
    summaries = {"m@32": summary("m@32", 60), "m@8": summary("m@8", 30), "m@2": summary("m@2", 90)}
    white_box: dict[str, bool | None] = {"m@32": True, "m@8": False, "m@2": False}

    groups = _groups(cast("list[ScoringVariant]", variants), summaries, white_box)

    assert groups is not None
    assert groups["white_box"]["variants"] == ["m@32"]
    assert groups["white_box"]["mean_success"] == pytest.approx(0.6)
    assert groups["transfer"]["variants"] == ["m@8"]
    assert groups["transfer"]["degenerate"] == ["m@2"]
    assert groups["transfer"]["mean_success"] == pytest.approx(0.3)
    assert groups["transfer"]["mean_misclassification"] == pytest.approx(0.5)
