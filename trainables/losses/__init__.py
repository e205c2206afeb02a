"""Loss zoo: a registry keyed by name, one file per family, and the combining Objective.

Every loss is built by ``build_loss(name, num_classes=C, embedding_dim=D, **params)`` and called as
``loss(embeddings, labels, scale=s)`` -> batch-mean 0-dim tensor. Output-space losses also have
``logits(embeddings)`` (B, C) for prediction; class weights, proxies and centers live in ``weight``.
"""
from trainables.losses import adacos, baselines, center, complement, cosine, pc, proxies, softmax, softtriple  # noqa: F401  (register)
from trainables.losses.adacos import AdaCos, adacos_dynamic_scale
from trainables.losses.baselines import OneVsRestBCE, SoftmaxMSE
from trainables.losses.center import CenterLoss
from trainables.losses.complement import ComplementEntropy
from trainables.losses.cosine import CAMRI, ArcFace, CosFace, CosineSoftmaxBase, NormFace, additive_angular_margin
from trainables.losses.objective import Objective, on_subset, subset_mask
from trainables.losses.pc import PrototypeConformity
from trainables.losses.proxies import ProxyAnchor, ProxyNCA
from trainables.losses.registry import LOSSES, build_loss
from trainables.losses.softmax import CrossEntropy, LinearHead
from trainables.losses.softtriple import SoftTriple

__all__ = [
    "LOSSES", "AdaCos", "ArcFace", "CAMRI", "CenterLoss", "ComplementEntropy", "CosFace",
    "CosineSoftmaxBase", "CrossEntropy", "LinearHead", "NormFace", "Objective", "OneVsRestBCE",
    "PrototypeConformity", "ProxyAnchor", "ProxyNCA", "SoftTriple", "SoftmaxMSE",
    "adacos_dynamic_scale", "additive_angular_margin", "build_loss", "on_subset", "subset_mask",
]
