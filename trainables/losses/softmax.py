"""Output-space losses with a linear head: cross-entropy."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.registry import LOSSES


@LOSSES.register("ce")
class CrossEntropy(nn.Module):
    """Softmax cross-entropy over a linear head: mean of -log p_y. The scale is ignored."""

    def __init__(self, num_classes: int, embedding_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        self.bias = nn.Parameter(torch.zeros(num_classes))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(embeddings, self.weight, self.bias)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None) -> torch.Tensor:
        return F.cross_entropy(self.logits(embeddings), labels)
