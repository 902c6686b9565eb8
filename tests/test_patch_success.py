"""Success counting on a model whose answer is known: class 1 when the frame is bright."""

import torch

from harness.patch.apply import LoadedPatch
from harness.patch.ranges import EotRanges, Span
from harness.patch.success import success_rates

# No blur, noise or JPEG, a fixed large area: only the patch content decides.
PLAIN = EotRanges.geometry_only(
    yaw_deg=Span(0.0, 0.0),
    pitch_deg=Span(0.0, 0.0),
    roll_deg=Span(0.0, 0.0),
    area=Span(0.5, 0.5),
)


def brightness_model(images: torch.Tensor) -> torch.Tensor:
    """Logits (B, 2): class 1 wins when the mean pixel exceeds 0.4."""
    mean = images.mean(dim=(1, 2, 3))
    return torch.stack([0.4 - mean, mean - 0.4], dim=1)


def test_targeted_and_untargeted_by_hand() -> None:
    dark = torch.zeros(5, 3, 32, 32)
    white = LoadedPatch(torch.ones(3, 8, 8), torch.ones(1, 8, 8))
    black = LoadedPatch(torch.zeros(3, 8, 8), torch.ones(1, 8, 8))

    # Half the frame white: mean 0.5 > 0.4, class 1 on every frame; the random control
    # patch averages 0.25, so it never reaches class 1.
    targeted = success_rates(brightness_model, dark, white, 1, ranges=PLAIN, repeats=2)
    assert targeted.frames == 10
    assert targeted.patch == 1.0
    assert targeted.control == 0.0

    # Untargeted: the clean scenes are class 0, so moving to class 1 is a success.
    untargeted = success_rates(brightness_model, dark, white, None, ranges=PLAIN, repeats=2)
    assert untargeted.patch == 1.0
    unchanged = success_rates(brightness_model, dark, black, None, ranges=PLAIN, repeats=2)
    assert unchanged.patch == 0.0
