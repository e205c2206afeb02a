"""Center loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016)."""

from __future__ import annotations

import torch

from trainables.losses.base import Loss
from trainables.losses.precision import full_precision, upcast
from trainables.losses.registry import LOSSES


@LOSSES.register("center")
class CenterLoss(Loss):
    """Feature-space term 0.5 * mean_i ||f_i - c_{y_i}||^2 (lambda is the term's weight).

    The centers are the buffer ``weight`` (num_classes, embedding_dim), so no optimizer touches
    them; ``after_step`` applies the paper's rule after each optimizer step:
    delta_c_j = sum_{i: y_i = j} (c_j - f_i) / (1 + n_j),  c_j <- c_j - alpha * delta_c_j.
    Centers start at zero, as in the authors' Caffe layer's default; the first updates move
    each halfway to its class mean.

    Args: alpha: the centers' update rate in [0, 1] (paper: 0.5).
    """

    output_space = False

    def __init__(self, num_classes: int, embedding_dim: int, alpha: float = 0.5) -> None:
        super().__init__(num_classes)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"center alpha={alpha} must be in [0, 1]")
        self.alpha = alpha
        self.register_buffer("weight", torch.zeros(num_classes, embedding_dim))

    @full_precision
    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None
    ) -> torch.Tensor:
        x, centers = upcast(embeddings, self.weight)
        return 0.5 * (x - centers[labels]).pow(2).sum(1).mean()

    @torch.no_grad()
    def after_step(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """One step of the center update rule on a batch (features are detached)."""
        x = embeddings.detach().to(self.weight.dtype)
        counts = torch.bincount(labels, minlength=self.num_classes).to(x.dtype)[:, None]
        sums = torch.zeros_like(self.weight).index_add_(0, labels, x)
        delta = (counts * self.weight - sums) / (1.0 + counts)
        self.weight.sub_(self.alpha * delta)


__all__ = ["CenterLoss"]
