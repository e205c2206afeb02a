"""AdaCos (Zhang et al., "AdaCos: Adaptively Scaling Cosine Logits", CVPR 2019)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from trainables.losses.cosine import CosineSoftmaxBase
from trainables.losses.precision import upcast
from trainables.losses.registry import LOSSES
from trainables.schedules import adacos_fixed_scale

ACOS_EPS = 1e-7  # keeps acos away from +-1, where its derivative is infinite


def adacos_dynamic_scale(cos: torch.Tensor, labels: torch.Tensor, prev_scale: float | torch.Tensor) -> torch.Tensor:
    """One step of AdaCos's dynamic rule, without gradient: s = ln(B_avg) / cos(min(pi/4, theta_med)).

    B_avg = mean_i sum_{k != y_i} exp(s_prev cos theta_ik) (computed as a logsumexp), theta_med the
    median target angle theta_{i, y_i} of the batch. ``cos`` is (B, C); returns a 0-dim tensor.
    """
    with torch.no_grad():
        (cos,) = upcast(cos.detach())
        target = F.one_hot(labels, cos.shape[1]).bool()
        others = (prev_scale * cos).masked_fill(target, float("-inf"))
        log_b_avg = torch.logsumexp(others.flatten(), 0) - math.log(cos.shape[0])
        theta = torch.acos(cos[target].clamp(-1.0 + ACOS_EPS, 1.0 - ACOS_EPS))
        theta_med = torch.clamp(theta.median(), max=math.pi / 4)
        return log_b_avg / torch.cos(theta_med)


@LOSSES.register("adacos")
class AdaCos(CosineSoftmaxBase):
    """NormFace logits at AdaCos's own scale; the scale passed in is ignored.

    Fixed (default): s = sqrt(2) ln(C - 1). Dynamic (``dynamic=True``): starts at the fixed value
    and, in every training-mode forward, applies ``adacos_dynamic_scale`` before the loss.
    The current scale is the buffer ``scale_value``, so it is saved in checkpoints.
    """

    owns_scale = True  # the Objective reads the scale from here instead of the schedule

    def __init__(self, num_classes: int, embedding_dim: int, dynamic: bool = False) -> None:
        super().__init__(num_classes, embedding_dim)
        self.dynamic = dynamic
        self.register_buffer("scale_value", torch.tensor(adacos_fixed_scale(num_classes)))

    @property
    def current_scale(self) -> float:
        return float(self.scale_value)

    def resolve_scale(self, scale: float | None) -> torch.Tensor:
        return self.scale_value

    def observe(self, cos: torch.Tensor, labels: torch.Tensor) -> None:
        if self.training and self.dynamic and labels.numel():
            self.scale_value.copy_(adacos_dynamic_scale(cos, labels, self.scale_value))


__all__ = ["AdaCos", "adacos_dynamic_scale"]
