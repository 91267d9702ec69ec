"""PyTorch twins of :mod:`mlp.objectives` for Lightning models (imported only when asked)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class BinaryFocalLoss(nn.Module):
    """Mean binary focal loss on logits; ``gamma=0`` and ``alpha=None`` give BCE."""

    def __init__(self, gamma: float = 2.0, alpha: float | None = None) -> None:
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean focal loss of ``logits`` against 0/1 ``target``."""
        target = target.to(logits.dtype)
        ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        p = torch.sigmoid(logits)
        p_t = p * target + (1 - p) * (1 - target)
        loss = (1 - p_t) ** self.gamma * ce
        if self.alpha is not None:
            loss = (self.alpha * target + (1 - self.alpha) * (1 - target)) * loss
        return loss.mean()


class WeightedBCEWithLogits(nn.Module):
    """Mean log loss on logits with separate weights for positives and negatives."""

    def __init__(self, pos_weight: float = 1.0, neg_weight: float = 1.0) -> None:
        super().__init__()
        self.pos_weight = pos_weight
        self.neg_weight = neg_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean weighted log loss of ``logits`` against 0/1 ``target``."""
        target = target.to(logits.dtype)
        weight = self.pos_weight * target + self.neg_weight * (1 - target)
        return F.binary_cross_entropy_with_logits(logits, target, weight=weight)
