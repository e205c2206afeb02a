"""Baseline output-space losses of seed 003: one-vs-rest sigmoid BCE, and MSE on the softmax."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainables.losses.precision import full_precision, upcast
from trainables.losses.registry import LOSSES
from trainables.losses.softmax import LinearHead


@LOSSES.register("bce")
class OneVsRestBCE(LinearHead):
    """One-vs-rest binary cross-entropy: sigmoid(logit_j) against [y == j] for every class j.

    Per sample the C binary losses are summed (so the target logit's gradient matches CE's in
    magnitude), then averaged over the batch. Prediction: argmax of the logits.
    """

    @full_precision
    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        (logits,) = upcast(logits)
        one_hot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
        per_class = F.binary_cross_entropy_with_logits(logits, one_hot, reduction="none")
        return per_class.sum(1).mean()


@LOSSES.register("mse")
class SoftmaxMSE(LinearHead):
    """Mean squared error between softmax(logits) and the one-hot label: the mean over the C
    classes (seed 003's (1/K) sum_k over a K-dimensional target), then over the batch.

    Seed 003: it trains, but slower than CE, since its gradient vanishes when p_y -> 0.
    """

    @full_precision
    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        (logits,) = upcast(logits)
        one_hot = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
        return F.mse_loss(F.softmax(logits, dim=1), one_hot)


__all__ = ["OneVsRestBCE", "SoftmaxMSE"]
