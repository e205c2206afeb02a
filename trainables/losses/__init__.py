"""Loss zoo: a registry keyed by name, one file per family, and the combining Objective.

Every loss subclasses ``Loss`` (``base.py``: the facts it declares and the hooks it has), is built
by ``build_loss(name, num_classes=C, embedding_dim=D, **params)`` and called as
``loss(embeddings, labels, scale=s)`` -> batch-mean 0-dim tensor. Output-space losses also have
``logits(embeddings)`` (B, C) for prediction; class weights, proxies and centers live in ``weight``.
Adding a loss: one subclass registered with ``@LOSSES.register(name)`` in a module imported below,
and its reference test.
"""

# the loss modules register their classes when imported
from trainables.losses import (
    adacos,
    baselines,
    center,
    complement,
    cosine,
    pc,
    proxies,
    softmax,
    softtriple,
)
from trainables.losses.adacos import AdaCos
from trainables.losses.adacos_scale import AdaCosScale, adacos_rule
from trainables.losses.base import Loss, MarginRange
from trainables.losses.baselines import OneVsRestBCE, SoftmaxMSE
from trainables.losses.center import CenterLoss
from trainables.losses.complement import ComplementEntropy
from trainables.losses.cosine import (
    CAMRI,
    ArcFace,
    CosFace,
    CosineSoftmaxBase,
    NormFace,
    additive_angular_margin,
)
from trainables.losses.objective import Objective, on_subset, subset_mask
from trainables.losses.pc import PrototypeConformity
from trainables.losses.proxies import ProxyAnchor, ProxyNCA
from trainables.losses.registry import LOSSES, build_loss, margin_of, scaled_losses
from trainables.losses.softmax import CrossEntropy, LinearHead
from trainables.losses.softtriple import SoftTriple

__all__ = [
    "LOSSES",
    "AdaCos",
    "AdaCosScale",
    "ArcFace",
    "CAMRI",
    "CenterLoss",
    "ComplementEntropy",
    "CosFace",
    "CosineSoftmaxBase",
    "CrossEntropy",
    "LinearHead",
    "Loss",
    "MarginRange",
    "NormFace",
    "Objective",
    "OneVsRestBCE",
    "PrototypeConformity",
    "ProxyAnchor",
    "ProxyNCA",
    "SoftTriple",
    "SoftmaxMSE",
    "adacos_rule",
    "additive_angular_margin",
    "build_loss",
    "margin_of",
    "on_subset",
    "scaled_losses",
    "subset_mask",
]
