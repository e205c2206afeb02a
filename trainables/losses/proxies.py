"""Proxy-based metric-learning losses: Proxy-Anchor and Proxy-NCA (one proxy per class)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.base import Loss
from trainables.losses.precision import cosine_similarity, full_precision
from trainables.losses.registry import LOSSES


class ProxyBase(Loss):
    """One learnable proxy per class in ``weight`` (num_classes, embedding_dim); prediction by cosine.

    Proxies are usually trained with a much larger learning rate (Proxy-Anchor: x100, see
    ``optim.class_weight_lr_multiplier``).
    """

    def __init__(self, num_classes: int, embedding_dim: int) -> None:
        super().__init__(num_classes)
        self.weight = nn.Parameter(torch.empty(num_classes, embedding_dim))
        nn.init.kaiming_normal_(self.weight, mode="fan_out")  # as the Proxy-Anchor code

    @full_precision
    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        return cosine_similarity(embeddings, self.weight)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.cosine(embeddings)

    def scaled_logits(self, embeddings: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
        """``s * cos`` (also for Proxy-Anchor, whose loss has its own alpha instead)."""
        return scale * self.cosine(embeddings)


@LOSSES.register("proxy_anchor")
class ProxyAnchor(ProxyBase):
    """Proxy-Anchor loss (Kim et al., CVPR 2020); the passed scale is ignored (alpha plays its role).

    (1/|P+|) sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s(x,p) - delta)))
    + (1/C) sum_p log(1 + sum_{x in X_p-} exp(alpha (s(x,p) + delta))),
    with P+ the proxies of the classes present in the batch; each log(1 + sum exp) is a logsumexp
    with an extra zero, which is stable at alpha = 32.

    Args:
        alpha: scaling of the cosine (paper: 32).
        margin: delta, in cosine units (paper: 0.1).
    """

    def __init__(
        self, num_classes: int, embedding_dim: int, alpha: float = 32.0, margin: float = 0.1
    ) -> None:
        super().__init__(num_classes, embedding_dim)
        self.alpha, self.margin = alpha, margin

    @staticmethod
    def _log1p_sum_exp(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """log(1 + sum_i exp(values_ip)) over the rows i where ``keep``, per column p."""
        masked = values.masked_fill(~keep, float("-inf"))
        zero = values.new_zeros(1, values.shape[1])
        return torch.logsumexp(torch.cat([zero, masked]), dim=0)

    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None
    ) -> torch.Tensor:
        cos = self.cosine(embeddings)
        positive = F.one_hot(labels, self.num_classes).bool()
        pos = self._log1p_sum_exp(-self.alpha * (cos - self.margin), positive)
        neg = self._log1p_sum_exp(self.alpha * (cos + self.margin), ~positive)
        present = positive.any(0)
        return pos[present].sum() / present.sum().clamp_min(1) + neg.sum() / self.num_classes


@LOSSES.register("proxy_nca")
class ProxyNCA(ProxyBase):
    """Proxy-NCA (Movshovitz-Attias et al., ICCV 2017) in its softmax form (as ProxyNCA++).

    Cross-entropy over -(s/2) ||x/|x| - p/|p| ||^2. For unit vectors ||x - p||^2 = 2 - 2 cos, so
    the logits are s cos - s: a constant shift of NormFace's s cos, the same softmax. The factor
    1/2 makes s mean what it means for the cosine losses (the scale schedules, AdaCos's scale and
    the scale trend read it so); -s ||x - p||^2 would train like NormFace at 2s. The positive
    proxy is in the denominator (the original excluded it).
    """

    scaled = True

    @full_precision
    def neg_sq_distance(self, embeddings: torch.Tensor) -> torch.Tensor:
        return -(2.0 - 2.0 * self.cosine(embeddings)).clamp_min(0.0)

    def scaled_logits(self, embeddings: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
        """-(s/2) ||x - p||^2 on unit vectors, i.e. s cos - s."""
        return 0.5 * self.require_scale(scale) * self.neg_sq_distance(embeddings)

    def forward(
        self,
        embeddings: torch.Tensor,
        labels: torch.Tensor,
        scale: float | torch.Tensor | None = None,
    ) -> torch.Tensor:
        return F.cross_entropy(self.scaled_logits(embeddings, scale), labels)


__all__ = ["ProxyAnchor", "ProxyBase", "ProxyNCA"]
