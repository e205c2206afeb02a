"""Cosine-softmax family on one base: logits = s * cos(theta_j), the target logit modified.

Features and class weights are L2-normalized, so cos(theta_j) = <f, w_j> / (|f| |w_j|).
Subclasses override one step, ``target_logit`` (the margin); AdaCos changes the scale instead.
Margins carry their unit in the name: ``margin_cos`` (cosine units), ``margin_rad`` (radians).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.base import Loss, MarginRange
from trainables.losses.precision import cosine_similarity, full_precision
from trainables.losses.registry import LOSSES

SIN_EPS = 1e-7  # sin(theta) = sqrt(clamp(1 - cos^2, SIN_EPS, 1)): finite gradient at cos = +-1


class CosineSoftmaxBase(Loss):
    """Cross-entropy over ``scale * cos(theta)`` with the target cosine replaced by ``target_logit``.

    ``weight`` (num_classes, embedding_dim) holds the class weights; only their direction matters.
    ``logits(embeddings)`` returns the unscaled cosines used for prediction.
    """

    scaled = True

    def __init__(self, num_classes: int, embedding_dim: int) -> None:
        super().__init__(num_classes)
        # unit rows: with tiny rows, SGD's step on the direction (prop. to lr / |w|^2) is chaotic
        self.weight = nn.Parameter(F.normalize(torch.randn(num_classes, embedding_dim), dim=1))

    @full_precision
    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        return cosine_similarity(embeddings, self.weight)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.cosine(embeddings)

    def scaled_logits(self, embeddings: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
        """``s * cos`` without margin: the class distribution at scale ``s``."""
        return self.require_scale(scale) * self.cosine(embeddings)

    def target_logit(self, cos_target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The target cosine after the margin; NormFace has none."""
        return cos_target

    def with_margin(self, cos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        target = self.target_logit(cos.gather(1, labels[:, None]).squeeze(1), labels)
        return cos.scatter(1, labels[:, None], target[:, None])

    def forward(
        self,
        embeddings: torch.Tensor,
        labels: torch.Tensor,
        scale: float | torch.Tensor | None = None,
    ) -> torch.Tensor:
        s = self.require_scale(scale)
        return F.cross_entropy(s * self.with_margin(self.cosine(embeddings), labels), labels)


def additive_angular_margin(cos: torch.Tensor, margin_rad: float) -> torch.Tensor:
    """cos(theta + m) as cos*cos(m) - sin*sin(m); where theta + m > pi, cos(theta) - m*sin(m).

    The fallback (ArcFace, Deng et al. 2019) keeps the target logit decreasing in theta; the
    clamp keeps the gradient finite at cos = +-1.
    """
    sin = torch.sqrt(torch.clamp(1.0 - cos * cos, SIN_EPS, 1.0))
    shifted = cos * math.cos(margin_rad) - sin * math.sin(margin_rad)
    fallback = cos - margin_rad * math.sin(margin_rad)
    return torch.where(cos >= math.cos(math.pi - margin_rad), shifted, fallback)


@LOSSES.register("normface")
class NormFace(CosineSoftmaxBase):
    """NormFace (Wang et al., ACM MM 2017): logits s * cos(theta_j), no margin."""


@LOSSES.register("cosface")
class CosFace(CosineSoftmaxBase):
    """CosFace / large-margin cosine loss (Wang et al., CVPR 2018): target logit s (cos theta_y - m).

    Args: margin_cos: additive margin in cosine units (paper: 0.35 with s = 64).
    """

    margin_range = MarginRange("margin_cos", 0.0, 0.5)  # search range; the paper uses 0.35

    def __init__(self, num_classes: int, embedding_dim: int, margin_cos: float = 0.35) -> None:
        super().__init__(num_classes, embedding_dim)
        self.margin_cos = margin_cos

    def target_logit(self, cos_target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return cos_target - self.margin_cos


@LOSSES.register("arcface")
class ArcFace(CosineSoftmaxBase):
    """ArcFace / additive angular margin (Deng et al., CVPR 2019): target logit s cos(theta_y + m).

    Args: margin_rad: additive angular margin in radians (paper: 0.5 with s = 64).
    """

    margin_range = MarginRange("margin_rad", 0.0, 0.8)  # search range; the paper uses 0.5

    def __init__(self, num_classes: int, embedding_dim: int, margin_rad: float = 0.5) -> None:
        super().__init__(num_classes, embedding_dim)
        self.margin_rad = margin_rad

    def target_logit(self, cos_target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return additive_angular_margin(cos_target, self.margin_rad)


@LOSSES.register("camri")
class CAMRI(ArcFace):
    """CAMRI (Nishiyama et al. 2022): ArcFace's margin only for samples of one important class.

    Target logit s cos(theta_y + m [y == k]): recall of class k rises, the rest is NormFace.

    Args:
        important_class: k, the class index whose recall matters (default 0); in a trial it is
            ``data.important_class``, the class every loss's evaluation reports apart.
        margin_rad: additive angular margin in radians for class k.
    """

    margin_range = MarginRange("margin_rad", 0.0, 1.0)  # search range; the default is ArcFace's 0.5
    data_params = ("important_class",)

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int,
        important_class: int = 0,
        margin_rad: float = 0.5,
    ) -> None:
        super().__init__(num_classes, embedding_dim, margin_rad)
        if important_class < 0:
            raise ValueError(
                "camri needs data.important_class: the class whose recall its margin raises"
            )
        if not 0 <= important_class < num_classes:
            raise ValueError(
                f"camri important_class={important_class} is not a class index in [0, {num_classes})"
            )
        self.important_class = important_class

    def target_logit(self, cos_target: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.where(
            labels == self.important_class, super().target_logit(cos_target, labels), cos_target
        )


__all__ = [
    "ArcFace",
    "CAMRI",
    "CosFace",
    "CosineSoftmaxBase",
    "NormFace",
    "additive_angular_margin",
]
