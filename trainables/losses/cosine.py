"""Cosine-softmax family on one base: logits = s * cos(theta), the target logit modified."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.registry import LOSSES


class CosineSoftmaxBase(nn.Module):
    """Normalized features and class weights; subclasses override ``target_logit`` only."""

    def __init__(self, num_classes: int, embedding_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, embedding_dim) * 0.01)

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        return F.linear(F.normalize(embeddings.float(), dim=1), F.normalize(self.weight.float(), dim=1))

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.cosine(embeddings)

    def target_logit(self, cos_target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return cos_target

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float | None = None) -> torch.Tensor:
        if scale is None:
            raise ValueError(f"{type(self).__name__} needs a softmax scale")
        cos = self.cosine(embeddings)
        target = self.target_logit(cos.gather(1, labels[:, None]).squeeze(1), labels)
        cos = cos.scatter(1, labels[:, None], target[:, None])
        return F.cross_entropy(scale * cos, labels)


@LOSSES.register("normface")
class NormFace(CosineSoftmaxBase):
    """NormFace (Wang et al. 2017): logits s * cos(theta_j), no margin."""
