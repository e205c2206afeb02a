"""Complement Entropy (Chen et al., "Complement Objective Training", ICLR 2019)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainables.losses.precision import full_precision, upcast
from trainables.losses.registry import LOSSES
from trainables.losses.softmax import LinearHead

ONE_MINUS_PY_EPS = 1e-7  # guards 1 - p_y when the model is certain (as in the public code)
LOG_EPS = 1e-10  # guards log q_j when a wrong class has p_j = 0 (as in the public code)


@LOSSES.register("complement")
class ComplementEntropy(LinearHead):
    """Returns -H_c, the quantity that Complement Objective Training minimizes.

    With p = softmax(logits) and q_j = p_j / (1 - p_y) over the wrong classes j != y,
    H_c = -(1 / (C - 1)) * sum_{j != y} q_j log q_j, averaged over the batch. Maximizing H_c
    flattens the wrong-class distribution. The paper's normalization 1/(C-1) is used; the
    authors' public code divides by C instead (a constant factor (C-1)/C on the loss).

    Protocol (Complement Objective Training, Chen et al. ICLR 2019): as a term next to an output
    loss, it is trained by a second update after the primary one, on the probabilities of the
    *output* term's logits; the ``Objective`` calls ``from_logits`` with those, so this module's
    own linear head is used only when it is built standalone (then it is an ordinary loss whose
    head is ``weight``, ``bias``).
    """

    secondary_update = True  # as a term; built standalone it is an ordinary output loss

    @full_precision
    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        (logits,) = upcast(logits)
        p = F.softmax(logits, dim=1)
        p_y = p.gather(1, labels[:, None])
        q = p / (1.0 - p_y + ONE_MINUS_PY_EPS)
        wrong = torch.ones_like(p).scatter(1, labels[:, None], 0.0)
        q_log_q = q * torch.log(q + LOG_EPS) * wrong
        complement_entropy = -q_log_q.sum(1) / (logits.shape[1] - 1)
        return -complement_entropy.mean()


__all__ = ["ComplementEntropy"]
