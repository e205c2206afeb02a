"""Output-space losses on a linear head, and softmax cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.base import Loss
from trainables.losses.precision import full_precision, upcast
from trainables.losses.registry import LOSSES


class LinearHead(Loss):
    """A linear classifier ``logits = f W^T + b``; subclasses define ``from_logits`` only.

    ``weight`` has shape (num_classes, embedding_dim). The softmax scale is ignored: a linear head
    learns its own logit norm. Its weight is an ordinary layer weight: the optimizer trains and
    decays it with the backbone, like its bias, not in the class-weight group.
    """

    weight_in_class_weight_group = False

    def __init__(self, num_classes: int, embedding_dim: int) -> None:
        super().__init__(num_classes)
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        self.bias = nn.Parameter(torch.zeros(num_classes))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # nn.Linear's default

    @full_precision
    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        x, w, b = upcast(embeddings, self.weight, self.bias)
        return F.linear(x, w, b)

    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} defines its loss on the logits here")

    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None
    ) -> torch.Tensor:
        return self.from_logits(self.logits(embeddings), labels)


@LOSSES.register("ce")
class CrossEntropy(LinearHead):
    """Softmax cross-entropy over a linear head: mean of -log p_y (seed 003's multi-class pair)."""

    @full_precision
    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        (logits,) = upcast(logits)
        return F.cross_entropy(logits, labels)


__all__ = ["CrossEntropy", "LinearHead"]
