"""SoftTriple loss (Qian et al., "SoftTriple Loss: Deep Metric Learning Without Triplet Sampling", ICCV 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.base import Loss
from trainables.losses.precision import cosine_similarity, full_precision, upcast
from trainables.losses.registry import LOSSES

MERGE_EPS = (
    1e-5  # sqrt(2 + eps - 2 <w, w'>): finite gradient when two centers coincide (official code)
)


@LOSSES.register("softtriple")
class SoftTriple(Loss):
    """K normalized centers per class; cross-entropy over the relaxed similarity at scale lambda.

    S_ic = sum_k softmax_k(<x_i, w_c^k> / gamma) <x_i, w_c^k>;
    loss = CE(lambda (S_i - delta onehot(y_i))) + tau * sum_c sum_{k<k'} sqrt(2 + eps - 2 <w_c^k, w_c^k'>) / (C K (K-1)).
    lambda is the scale passed at each call (the quantity under study in seed 002; paper: 20).
    ``weight`` is (num_classes * K, embedding_dim), class-major: row c*K + k is center k of class c.

    Args:
        centers_per_class: K (paper: 10).
        gamma: temperature of the soft assignment to centers (paper: 0.1).
        tau: weight of the center-merging regularizer (paper: 0.2); unused when K = 1.
        delta: margin on the target similarity, in cosine units (paper: 0.01).
    """

    scaled = True

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int,
        centers_per_class: int = 10,
        gamma: float = 0.1,
        tau: float = 0.2,
        delta: float = 0.01,
    ) -> None:
        super().__init__(num_classes)
        if centers_per_class < 1:
            raise ValueError(f"softtriple centers_per_class={centers_per_class} must be >= 1")
        self.centers_per_class = centers_per_class
        self.gamma, self.tau, self.delta = gamma, tau, delta
        self.weight = nn.Parameter(torch.empty(num_classes * centers_per_class, embedding_dim))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # as the official code

    @full_precision
    def relaxed_similarity(self, embeddings: torch.Tensor) -> torch.Tensor:
        """S (B, C): the soft-max-weighted similarity of each sample to each class's centers."""
        sim = cosine_similarity(embeddings, self.weight)
        sim = sim.view(embeddings.shape[0], self.num_classes, self.centers_per_class)
        return (F.softmax(sim / self.gamma, dim=2) * sim).sum(2)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.relaxed_similarity(embeddings)

    def class_weights(self) -> torch.Tensor:
        """One proxy per class (C, D): the mean of its K normalized centers, normalized. Seed 002
        measures the spread of the classes' representative points, one per class, not of all
        C*K centers (same-class centers, pulled together by the regularizer, would lower it)."""
        w = F.normalize(self.weight.detach().float(), dim=1).view(
            self.num_classes, self.centers_per_class, -1
        )
        return F.normalize(w.mean(1), dim=1)

    @full_precision
    def regularizer(self, weight: torch.Tensor) -> torch.Tensor:
        """Center merging: mean distance sqrt(2 - 2 cos) between the centers of each class (k < k')."""
        k = self.centers_per_class
        (w,) = upcast(weight)
        w = F.normalize(w, dim=1).view(self.num_classes, k, -1)
        sim = w @ w.transpose(1, 2)
        rows, cols = torch.triu_indices(k, k, offset=1, device=w.device)
        dist = torch.sqrt(2.0 + MERGE_EPS - 2.0 * sim[:, rows, cols])
        return dist.sum() / (self.num_classes * k * (k - 1))

    def forward(
        self,
        embeddings: torch.Tensor,
        labels: torch.Tensor,
        scale: float | torch.Tensor | None = None,
    ) -> torch.Tensor:
        scale = self.require_scale(scale)  # lambda
        s = self.relaxed_similarity(embeddings)
        margin = self.delta * F.one_hot(labels, self.num_classes).to(s.dtype)
        loss = F.cross_entropy(scale * (s - margin), labels)
        if self.tau > 0 and self.centers_per_class > 1:
            loss = loss + self.tau * self.regularizer(self.weight)
        return loss


__all__ = ["SoftTriple"]
