import pytest
import torch

from harness.models.quantize.grid import (
    activation_grid,
    fake_quantize,
    quantize_weight,
    weight_scale,
)
from harness.models.quantize.observers import Observer, ObserverKind


def test_weight_rounding_by_hand() -> None:
    # 3 bits: levels -3..3, scale = 0.7 / 3; -0.35 / scale = -1.5 rounds half to even, to -2.
    weight = torch.tensor([[0.7, -0.35, 0.1, 0.0]])
    scale = weight_scale(weight, 3)
    assert scale.item() == pytest.approx(0.7 / 3)
    rounded = quantize_weight(weight, scale, 3)
    expected = torch.tensor([[0.7, -2 * 0.7 / 3, 0.0, 0.0]])
    torch.testing.assert_close(rounded, expected)


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 8])
def test_weight_levels_per_channel(bits: int) -> None:
    weight = torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(bits))
    for search in (False, True):
        scale = weight_scale(weight, bits, search=search)
        rounded = quantize_weight(weight, scale, bits)
        for channel in range(16):
            levels = rounded[channel] / scale[channel]
            assert torch.allclose(levels, levels.round(), atol=1e-4)
            assert levels.abs().max() <= 2 ** (bits - 1) - 1 + 1e-4
            assert rounded[channel].unique().numel() <= 2**bits - 1


def test_scale_search_lowers_error() -> None:
    # A heavy-tailed channel: one outlier stretches the max-abs grid.
    weight = torch.cat(
        [
            torch.randn(1, 200, generator=torch.Generator().manual_seed(0)) * 0.1,
            torch.tensor([[2.0]]),
        ],
        dim=1,
    )
    plain = quantize_weight(weight, weight_scale(weight, 4), 4)
    searched = quantize_weight(weight, weight_scale(weight, 4, search=True), 4)
    assert (searched - weight).pow(2).sum() < (plain - weight).pow(2).sum()


def test_activation_grid_by_hand() -> None:
    # [-1, 3] at 2 bits: scale 4/3, zero point round(0.75) = 1, levels 0..3 -> -4/3 .. 8/3.
    grid = activation_grid(-1.0, 3.0, 2)
    assert grid.scale == pytest.approx(4 / 3)
    assert grid.zero_point == 1
    assert grid.low == pytest.approx(-4 / 3)
    assert grid.high == pytest.approx(8 / 3)
    values = fake_quantize(torch.tensor([-2.0, -0.5, 0.7, 3.0]), grid)
    torch.testing.assert_close(values, torch.tensor([-4 / 3, 0.0, 4 / 3, 8 / 3]))


def test_activation_grid_keeps_zero() -> None:
    grid = activation_grid(0.5, 6.0, 8)
    assert grid.zero_point == 0
    assert fake_quantize(torch.tensor([0.0]), grid).item() == 0.0


def test_minmax_observer() -> None:
    observer = Observer(ObserverKind.MINMAX)
    observer.update(torch.tensor([-2.0, 1.0]))
    observer.update(torch.tensor([5.0]))
    grid = observer.grid(8)
    assert grid.low == pytest.approx(-2.0, abs=grid.scale)
    assert grid.high == pytest.approx(5.0, abs=grid.scale)


def test_percentile_observer_ignores_outlier() -> None:
    values = torch.cat([torch.linspace(0.0, 1.0, 100_001), torch.tensor([1000.0])])
    observer = Observer(ObserverKind.PERCENTILE, percentile=99.9)
    observer.update(values)
    grid = observer.grid(8)
    assert grid.zero_point == 0
    assert grid.high == pytest.approx(1.0, abs=0.01)


def test_mse_observer_clips_tail() -> None:
    generator = torch.Generator().manual_seed(1)
    values = torch.distributions.Laplace(0.0, 1.0).sample((50_000,))
    values[0] = 40.0
    minmax, mse = Observer(ObserverKind.MINMAX), Observer(ObserverKind.MSE)
    for observer in (minmax, mse):
        observer.update(values[torch.randperm(len(values), generator=generator)])
    wide, tight = minmax.grid(4), mse.grid(4)
    assert tight.high < wide.high
    wide_error = (fake_quantize(values, wide) - values).pow(2).mean()
    tight_error = (fake_quantize(values, tight) - values).pow(2).mean()
    assert tight_error < wide_error


@pytest.mark.parametrize("bits", [2, 4, 5, 8])
def test_weight_grid_matches_brevitas(bits: int) -> None:
    # Brevitas' per-channel max-scaled narrow-range quantizer is an independent reference.
    import brevitas.nn
    from brevitas.quant import Int8WeightPerChannelFloat

    conv = brevitas.nn.QuantConv2d(
        8, 16, 3, bias=False, weight_quant=Int8WeightPerChannelFloat, weight_bit_width=bits
    )
    with torch.no_grad():
        conv.weight.copy_(torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(bits)))
        reference = conv.quant_weight()
    weight = conv.weight.detach()
    scale = weight_scale(weight, bits)
    torch.testing.assert_close(scale, reference.scale.detach().flatten(), rtol=1e-5, atol=0)
    torch.testing.assert_close(quantize_weight(weight, scale, bits), reference.value.detach())
