import pytest
import torch

from harness.patch.conditions import sample_conditions
from harness.patch.eot import camera_effects, render
from harness.patch.ranges import EotRanges, Span
from tests.patch_helpers import neutral_conditions


def test_empty_mask_leaves_scene() -> None:
    scenes = torch.rand(2, 3, 64, 64)
    frames = render(scenes, torch.rand(3, 16, 16), torch.zeros(1, 16, 16), neutral_conditions(2))
    torch.testing.assert_close(frames, scenes)


def test_patch_lands_at_centre() -> None:
    scenes = torch.zeros(1, 3, 64, 64)
    patch = torch.tensor([0.2, 0.6, 0.9]).view(3, 1, 1).expand(3, 16, 16)
    frames = render(scenes, patch, torch.ones(1, 16, 16), neutral_conditions(1))
    torch.testing.assert_close(
        frames[0, :, 32, 32], torch.tensor([0.2, 0.6, 0.9]), atol=1e-4, rtol=0
    )
    # A quarter of the frame: the corner stays scene.
    assert frames[0, :, 2, 2].abs().max() == 0


def test_lighting_by_hand() -> None:
    # (0.5 - 0.5) * 2 + 0.5 + 0.1 = 0.6, then gamma 2 gives 0.36.
    patch = torch.full((3, 8, 8), 0.5)
    frames = render(
        torch.zeros(1, 3, 32, 32),
        patch,
        torch.ones(1, 8, 8),
        neutral_conditions(1, contrast=2.0, brightness=0.1, gamma=2.0),
    )
    assert float(frames[0, 0, 16, 16]) == pytest.approx(0.36, abs=1e-4)


def test_gradient_reaches_patch() -> None:
    patch = torch.rand(3, 16, 16, requires_grad=True)
    ranges = EotRanges()
    generator = torch.Generator().manual_seed(0)
    conditions = sample_conditions(ranges, 4, generator)
    frames = render(
        torch.rand(4, 3, 64, 64), patch, torch.ones(1, 16, 16), conditions, generator=generator
    )
    frames.mean().backward()
    assert patch.grad is not None
    assert torch.isfinite(patch.grad).all()
    assert patch.grad.abs().sum() > 0


def test_noise_level() -> None:
    frames = torch.full((4, 3, 64, 64), 0.5)
    noisy = camera_effects(
        frames, neutral_conditions(4, noise=0.05), torch.Generator().manual_seed(1)
    )
    assert float((noisy - frames).std()) == pytest.approx(0.05, rel=0.05)


def test_jpeg_changes_little_at_high_quality() -> None:
    frames = torch.rand(2, 3, 64, 64).clamp(0.3, 0.7)
    smooth = torch.nn.functional.avg_pool2d(frames, 5, 1, 2)
    compressed = camera_effects(smooth, neutral_conditions(2, jpeg_quality=95.0), None)
    assert float((compressed - smooth).abs().mean()) < 0.02
    assert compressed.min() >= 0
    assert compressed.max() <= 1


def test_sampling_respects_ranges() -> None:
    ranges = EotRanges(yaw_deg=Span(10.0, 20.0), area=Span(0.1, 0.1))
    conditions = sample_conditions(ranges, 256, torch.Generator().manual_seed(3))
    assert conditions.yaw_deg.min() >= 10.0
    assert conditions.yaw_deg.max() <= 20.0
    assert torch.all(conditions.area == 0.1)
    assert len(conditions.rows()) == 256
