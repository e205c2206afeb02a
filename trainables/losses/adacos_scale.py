"""AdaCos's scale (Zhang et al., "AdaCos: Adaptively Scaling Cosine Logits", CVPR 2019): the one
place its rule lives.

A trial trains at an AdaCos scale when its output loss is ``adacos`` or its scale schedule is
``adacos_dynamic``; ``Objective`` then holds one ``AdaCosScale``, updates it once per training
batch when it is dynamic, and passes its value to the loss instead of the scheduled scale.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trainables.losses.precision import upcast
from trainables.schedules import adacos_fixed_scale

ACOS_EPS = 1e-7  # keeps acos away from +-1, where its derivative is infinite


def adacos_rule(
    cos: torch.Tensor, labels: torch.Tensor, prev_scale: float | torch.Tensor
) -> torch.Tensor:
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


class AdaCosScale(nn.Module):
    """The scale s: sqrt(2) ln(C - 1) at first; with ``dynamic`` each ``update`` applies ``adacos_rule``.

    ``value`` is a buffer, so a checkpoint saves the current scale.
    """

    def __init__(self, num_classes: int, dynamic: bool = False) -> None:
        super().__init__()
        self.dynamic = dynamic
        self.register_buffer("value", torch.tensor(adacos_fixed_scale(num_classes)))

    @torch.no_grad()
    def update(self, cos: torch.Tensor, labels: torch.Tensor) -> None:
        """The dynamic rule on one training batch's cosines (B, C); nothing when fixed or empty."""
        if self.dynamic and labels.numel():
            self.value.copy_(adacos_rule(cos, labels, self.value))


__all__ = ["AdaCosScale", "adacos_rule"]
