"""The contract every registered loss fulfils: the facts it declares and the hooks it has.

The ``Objective``, the search spaces, the analysis and the tests read these class attributes and
call these hooks on every loss alike; a hook that a loss does not need keeps its no-op default.
Adding a loss is one subclass (registered with ``@LOSSES.register(name)``) and its reference test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from trainables.losses.adacos_scale import AdaCosScale


@dataclass(frozen=True)
class MarginRange:
    """A loss's margin parameter (its unit in the name) and the range a search draws it from."""

    param: str  # margin_cos (cosine units) or margin_rad (radians)
    low: float
    high: float


class Loss(nn.Module):
    """Base of every loss: called as ``loss(embeddings, labels, scale=s)`` -> batch-mean 0-dim tensor.

    ``weight`` holds the loss's class vectors (class weights, proxies or centres), one row per
    class or per centre; ``num_classes`` is C. Facts are class attributes, so search spaces and
    the analysis can read them from the registry without building a loss.
    """

    # True: it has logits that predict the class, so it can be the output term; False: a
    # feature-space term next to an output loss (Center, PC)
    output_space: ClassVar[bool] = True
    # True: the passed scale multiplies its logits and the trial's scale schedule sets it (the
    # quantity a study varies); False: the loss ignores the scheduled scale (linear heads,
    # Proxy-Anchor's alpha, feature-space terms) or, like AdaCos, has a scale of its own
    scaled: ClassVar[bool] = False
    # the margin a search varies (CosFace, ArcFace, CAMRI); None: no margin under study
    margin_range: ClassVar[MarginRange | None] = None
    # True: as a term it is trained by a second update on the output term's logits (Complement
    # Objective Training) through ``from_logits``, not with the primary update
    secondary_update: ClassVar[bool] = False
    # constructor parameters that are facts of the data, taken from ``data.<name>`` and never from
    # ``loss.params`` (CAMRI's ``important_class`` is ``data.important_class``)
    data_params: ClassVar[tuple[str, ...]] = ()
    # True: ``weight`` holds class vectors whose norm the loss ignores or bounds (cosine class
    # weights, proxies, SoftTriple's centres, PC's centres), trained in the optimizer's
    # class-weight group: lr * ``optim.class_weight_lr_multiplier``, no weight decay. False: it is
    # an ordinary layer weight (a linear head's), trained at the backbone's lr and decayed like it
    weight_in_class_weight_group: ClassVar[bool] = True

    weight: torch.Tensor

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def require_scale(self, scale: float | torch.Tensor | None) -> float | torch.Tensor:
        """The passed scale; a loss that multiplies its logits by it raises when called without one."""
        if scale is None:
            raise ValueError(f"{type(self).__name__} needs a softmax scale: call it with scale=s")
        return scale

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Prediction scores (B, C) without the scale: their argmax is the predicted class."""
        raise TypeError(
            f"{type(self).__name__} is a feature-space loss: it has no logits to predict with"
        )

    def scaled_logits(self, embeddings: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
        """The logits whose softmax is the class distribution in training at scale ``scale``."""
        logits = self.logits(embeddings)
        return self.require_scale(scale) * logits if self.scaled else logits

    def from_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss from another term's logits (for ``secondary_update`` losses)."""
        raise TypeError(f"{type(self).__name__} is not computed from another term's logits")

    def class_weights(self) -> torch.Tensor:
        """One vector per class (C, D): for the proxy cosine statistics and histograms."""
        return self.weight

    def adacos_scale(self, dynamic: bool) -> AdaCosScale | None:
        """The AdaCos scale this loss trains at instead of the scheduled one, or None.

        ``dynamic`` is the trial's ``adacos_dynamic`` schedule: a scaled loss then trains at
        AdaCos's dynamic scale (the Objective updates it once per training batch).
        """
        return AdaCosScale(self.num_classes, dynamic=True) if dynamic and self.scaled else None

    def after_step(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """A rule-based update after the optimizer step (Center loss's centres); no-op here."""


__all__ = ["Loss", "MarginRange"]
