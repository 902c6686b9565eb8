import pytest
import torch

from harness.models.metrics import is_degenerate, top1_agreement, topk_accuracy


def test_agreement_by_hand() -> None:
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    reference = torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    # Rows 0 and 2 agree: 2 of 4.
    assert top1_agreement(logits, reference) == 0.5


def test_topk_by_hand() -> None:
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.15, 0.05], [0.2, 0.3, 0.5]])
    labels = torch.tensor([1, 1, 0])
    # Top-1 hits row 0 only; top-2 also row 1 (0.15 is second); row 2's label is last.
    assert topk_accuracy(logits, labels, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(logits, labels, 2) == pytest.approx(2 / 3)
    assert topk_accuracy(logits, labels, 3) == 1.0


def test_degenerate_threshold() -> None:
    assert is_degenerate(0.49)
    assert not is_degenerate(0.5)
