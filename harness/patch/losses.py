"""Patch losses: the attack objective, non-printability and total variation."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def targeted_loss(logits: torch.Tensor, target: int) -> torch.Tensor:
    """Return the mean cross-entropy of (B, K) logits towards class ``target`` (lower is better)."""
    labels = torch.full((logits.shape[0],), target, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, labels)


def untargeted_loss(logits: torch.Tensor, clean_labels: torch.Tensor) -> torch.Tensor:
    """Return the negative mean cross-entropy to the (B,) clean labels (lower is better)."""
    return -F.cross_entropy(logits, clean_labels)


def non_printability(
    patch: torch.Tensor, palette: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean distance from each printed pixel to its nearest printable colour.

    Sharif et al., "Accessorize to a Crime", CCS 2016, https://doi.org/10.1145/2976749.2978392
    define the score as a product of distances to every palette colour. With a palette of
    100+ measured swatches that product underflows, so this uses the distance to the nearest
    colour, as later physical attacks do.

    Args:
        patch: (3, H, W) in [0, 1].
        palette: (P, 3) printable colours in [0, 1].
        mask: (1, H, W) printed area.
    """
    pixels = patch.flatten(1).t()  # (H*W, 3)
    distance = torch.cdist(pixels, palette.to(patch)).amin(dim=1)
    weights = mask.flatten()
    return (distance * weights).sum() / weights.sum().clamp_min(1.0)


def total_variation(patch: torch.Tensor) -> torch.Tensor:
    """Mean magnitude of the difference between neighbouring pixels of a (3, H, W) patch.

    Smooth patches print and photograph better (Sharif et al., CCS 2016).
    """
    dx = patch[:, :, 1:] - patch[:, :, :-1]
    dy = patch[:, 1:, :] - patch[:, :-1, :]
    return torch.sqrt(dx[:, :-1, :] ** 2 + dy[:, :, :-1] ** 2 + 1e-8).mean()
