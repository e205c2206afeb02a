"""AdaCos (Zhang et al., "AdaCos: Adaptively Scaling Cosine Logits", CVPR 2019)."""

from __future__ import annotations

import torch

from trainables.losses.adacos_scale import AdaCosScale
from trainables.losses.cosine import NormFace
from trainables.losses.registry import LOSSES
from trainables.schedules import adacos_fixed_scale


@LOSSES.register("adacos")
class AdaCos(NormFace):
    """NormFace logits at AdaCos's scale instead of the scheduled one (see ``adacos_scale``).

    Fixed (default): s = sqrt(2) ln(C - 1). Dynamic (``dynamic=True``): starts at the fixed value,
    then the Objective applies AdaCos's rule before the loss of each training batch. The
    Objective passes that scale in; called without one, the loss uses the fixed scale.
    """

    scaled = False  # the scheduled scale does not matter: AdaCos sets its own

    def __init__(self, num_classes: int, embedding_dim: int, dynamic: bool = False) -> None:
        super().__init__(num_classes, embedding_dim)
        self.dynamic = dynamic

    def adacos_scale(self, dynamic: bool) -> AdaCosScale:
        return AdaCosScale(self.num_classes, dynamic=dynamic or self.dynamic)

    def require_scale(self, scale: float | torch.Tensor | None) -> float | torch.Tensor:
        return adacos_fixed_scale(self.num_classes) if scale is None else scale


__all__ = ["AdaCos"]
