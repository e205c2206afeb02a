"""Prototype Conformity loss (Mustafa et al., "Adversarial Defense by Restricting the Hidden Space of Deep Neural Networks", ICCV 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.base import Loss
from trainables.losses.precision import full_precision, upcast
from trainables.losses.registry import LOSSES


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a_i - b_j||^2 for all pairs, (len(a), len(b)), without the (A, B, D) difference tensor."""
    return (a.pow(2).sum(1)[:, None] + b.pow(2).sum(1)[None, :] - 2.0 * a @ b.T).clamp_min(0.0)


@LOSSES.register("pc")
class PrototypeConformity(Loss):
    """PC loss in the paper's form, with the center-to-center (gamma) term.

    alpha_i = ||f_i - w_{y_i}||^2, beta_ij = ||f_i - w_j||^2, gamma_ij = ||w_{y_i} - w_j||^2,
    L = mean_i [alpha_i - (1/(C-1)) sum_{j != y_i} (beta_ij + gamma_ij)].
    It pulls each feature to its class center and pushes feature and center away from the other
    centers. (The authors' public code drops gamma.) The learnable centers are ``weight``
    (num_classes, embedding_dim). Used as a term next to an output loss (seeds 000, 001).

    The push is unbounded below on raw features. ``normalize=True`` (default) L2-normalizes
    features and centers first, so every squared distance lies in [0, 4] and L in [-8, 4];
    with ``normalize=False`` the term can diverge, and the training routine's NaN/inf check
    ends such a trial.

    Args: normalize: compute the distances on unit vectors (bounded loss).
    """

    output_space = False

    def __init__(self, num_classes: int, embedding_dim: int, normalize: bool = True) -> None:
        super().__init__(num_classes)
        if num_classes < 2:
            raise ValueError("pc needs at least 2 classes")
        self.normalize = normalize
        self.weight = nn.Parameter(torch.randn(num_classes, embedding_dim))

    @full_precision
    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None
    ) -> torch.Tensor:
        x, w = upcast(embeddings, self.weight)
        if self.normalize:
            x, w = F.normalize(x, dim=1), F.normalize(w, dim=1)
        beta = squared_distances(x, w)  # (B, C)
        gamma = squared_distances(w, w)[labels]  # (B, C): own center to every center
        own = F.one_hot(labels, self.num_classes).bool()
        alpha = beta[own]
        push = (beta + gamma).masked_fill(own, 0.0).sum(1) / (self.num_classes - 1)
        return (alpha - push).mean()


__all__ = ["PrototypeConformity", "squared_distances"]
