import math

import pytest
import torch

from harness.patch.losses import non_printability, targeted_loss, total_variation, untargeted_loss
from harness.patch.shapes import COLLAPSE_STD, PatchShape, colour_spread, make_mask


def test_targeted_loss_uniform_logits() -> None:
    # Uniform logits over 4 classes: cross-entropy ln 4 whatever the target.
    assert float(targeted_loss(torch.zeros(3, 4), 2)) == pytest.approx(math.log(4))


def test_untargeted_is_negative_cross_entropy() -> None:
    logits = torch.tensor([[2.0, 0.0]])
    expected = -math.log(1 + math.exp(-2.0))
    assert float(untargeted_loss(logits, torch.tensor([0]))) == pytest.approx(expected)


def test_nps_grey_between_black_and_white() -> None:
    # Mid grey is sqrt(3 * 0.5²) = 0.866 from both black and white.
    palette = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    patch = torch.full((3, 4, 4), 0.5)
    assert float(non_printability(patch, palette, torch.ones(1, 4, 4))) == pytest.approx(
        0.866, abs=1e-3
    )


def test_nps_zero_on_palette_and_masked() -> None:
    palette = torch.tensor([[1.0, 0.0, 0.0]])
    patch = torch.zeros(3, 4, 4)
    patch[0] = 1.0
    assert float(non_printability(patch, palette, torch.ones(1, 4, 4))) == pytest.approx(
        0.0, abs=1e-6
    )
    mask = torch.zeros(1, 4, 4)
    mask[0, 0, 0] = 1.0
    patch[:, 1:, 1:] = 0.3  # off-palette but outside the mask
    assert float(non_printability(patch, palette, mask)) == pytest.approx(0.0, abs=1e-6)


def test_total_variation_by_hand() -> None:
    # Columns 0 | 1 | 1: two of the four sampled positions see a step of 1, so TV = 0.5.
    patch = torch.zeros(3, 3, 3)
    patch[:, :, 1:] = 1.0
    assert float(total_variation(patch)) == pytest.approx(0.5, abs=1e-3)


def test_masks() -> None:
    assert make_mask(PatchShape.SQUARE, 8).sum() == 64
    circle = make_mask(PatchShape.CIRCLE, 64)
    assert float(circle.sum()) == pytest.approx(math.pi * 32**2, rel=0.02)
    rectangle = make_mask(PatchShape.RECTANGLE, 40, aspect=2.0)
    assert float(rectangle.sum()) == pytest.approx(40 * 20, rel=0.05)
    assert float(rectangle[0, 0, 20]) == 0.0


def test_colour_spread_flags_flat_patch() -> None:
    mask = make_mask(PatchShape.CIRCLE, 32)
    flat = torch.full((3, 32, 32), 0.4)
    flat[:, 0, 0] = 1.0  # outside the circle, so it does not count
    assert colour_spread(flat, mask) == pytest.approx(0.0, abs=1e-6)
    assert colour_spread(flat, mask) < COLLAPSE_STD
    noisy = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert colour_spread(noisy, mask) == pytest.approx(0.289, abs=0.02)
