"""The objective of a trial: an output-space term plus weighted extra terms on class subsets.

The training routine uses exactly this API:

- ``forward(embeddings, labels, scale)`` -> named terms (unweighted) and ``"total"``, the loss of
  the primary update: output term + sum of weight * term over the terms updated with it;
- ``secondary(embeddings, labels, scale)`` -> the loss of the second update (Complement Objective
  Training) computed from the output term's logits of a fresh forward, or None;
- ``after_step(embeddings, labels)`` -> rule-based updates (Center loss centers);
- ``scale(scheduled)`` -> the scale the output term trains at: the scheduled one, or AdaCos's;
- ``logits``, ``class_weights``, ``parameter_groups``, and the optimizers terms ask for:
  ``own_optimizer_terms()`` (PC's centres by plain SGD, seed 001) and ``secondary_optimizer_name``.

It calls every loss through the hooks of ``trainables.losses.base.Loss``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from trainables.config import LossConfig
from trainables.losses.registry import LOSSES, build_loss


def subset_mask(
    classes: str, labels: torch.Tensor, head: tuple[int, ...], tail: tuple[int, ...]
) -> torch.Tensor | None:
    """Boolean mask of the samples whose label is in the subset; None means all samples."""
    if classes == "all":
        return None
    chosen = {"head": head, "tail": tail}.get(classes)
    if chosen is None:
        chosen = tuple(int(c) for c in classes.split(","))
    allowed = torch.zeros(
        max(max(chosen, default=0), int(labels.max()) if labels.numel() else 0) + 1,
        dtype=torch.bool,
        device=labels.device,
    )
    allowed[list(chosen)] = True
    return allowed[labels]


def on_subset(
    mask: torch.Tensor | None,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``loss`` on the masked samples; an empty subset gives a zero that keeps the graph."""
    if mask is None:
        return loss(inputs, labels)
    if not bool(mask.any()):
        return inputs.sum() * 0.0
    return loss(inputs[mask], labels[mask])


class Objective(nn.Module):
    """Total loss = output term + sum of weight * term, each term on its class subset.

    Args:
        cfg: the loss section of the trial's config.
        num_classes, embedding_dim: C and D.
        head, tail: class indices of the ``head``/``tail`` subsets.
        dynamic: the ``adacos_dynamic`` schedule: the output term trains at AdaCos's dynamic scale
            (a scaled loss, or ``adacos`` itself; other losses have no scale to adapt).
        data: facts of the data config (``{"important_class": 3}``) handed to the losses that
            take them (their ``data_params``); a loss not given one keeps its default.
    """

    def __init__(
        self,
        cfg: LossConfig,
        num_classes: int,
        embedding_dim: int,
        head: tuple[int, ...],
        tail: tuple[int, ...],
        dynamic: bool = False,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.cfg, self.head, self.tail = cfg, tuple(head), tuple(tail)

        def build(name: str, params: Mapping[str, Any]):
            facts = {k: v for k, v in (data or {}).items() if k in LOSSES.get(name).data_params}
            return build_loss(name, num_classes, embedding_dim, **{**params, **facts})

        self.output = build(cfg.output, cfg.params)
        if not self.output.output_space:
            raise ValueError(
                f"loss.output={cfg.output!r} is a feature-space loss without logits; "
                f"add it as a term (loss.terms.{cfg.output}.weight) next to an output loss"
            )
        clash = {cfg.output, "total"} & set(cfg.terms)
        if clash:
            raise ValueError(
                f"loss.terms cannot be named {', '.join(sorted(clash))} (the output term or the total)"
            )
        self.terms = nn.ModuleDict({name: build(name, t.params) for name, t in cfg.terms.items()})
        for name, loss in self.terms.items():
            wants = cfg.terms[name].optimizer
            if (
                wants
                and not loss.secondary_update
                and not any(p.requires_grad for p in loss.parameters())
            ):
                raise ValueError(
                    f"loss.terms.{name}.optimizer={wants!r}: {name} has no learnable parameters for an "
                    f"optimizer of its own; leave loss.terms.{name}.optimizer out"
                )
        # the AdaCos scale the output term trains at instead of the scheduled one (None: the
        # scheduled one); its buffer is saved with the objective's state
        self.adacos = self.output.adacos_scale(dynamic)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Prediction scores (B, C) of the output term: argmax is the predicted class."""
        return self.output.logits(embeddings)

    def _scale(self, scheduled: float) -> float | torch.Tensor:
        return scheduled if self.adacos is None else self.adacos.value

    def scale(self, scheduled: float) -> float:
        """The scale the output term trains at when the schedule gives ``scheduled``."""
        return float(self._scale(scheduled))

    def _mask(self, classes: str, labels: torch.Tensor) -> torch.Tensor | None:
        return subset_mask(classes, labels, self.head, self.tail)

    def _subset(
        self, classes: str, embeddings: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mask = self._mask(classes, labels)
        return (embeddings, labels) if mask is None else (embeddings[mask], labels[mask])

    def forward(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float
    ) -> dict[str, torch.Tensor]:
        # AdaCos's rule, before the loss
        if self.training and self.adacos is not None and self.adacos.dynamic:
            with torch.no_grad():
                x, y = self._subset(self.cfg.output_classes, embeddings.detach(), labels)
                self.adacos.update(self.output.logits(x), y)
        s = self._scale(scale)
        output = on_subset(
            self._mask(self.cfg.output_classes, labels),
            embeddings,
            labels,
            lambda x, y: self.output(x, y, scale=s),
        )
        parts, total = {self.cfg.output: output}, output
        for name, loss in self.terms.items():
            term = self.cfg.terms[name]
            if loss.secondary_update:
                with torch.no_grad():  # logged only; trained by `secondary`
                    logits = self.output.scaled_logits(embeddings, s)
                    parts[name] = on_subset(
                        self._mask(term.classes, labels), logits, labels, loss.from_logits
                    )
                continue
            parts[name] = on_subset(
                self._mask(term.classes, labels),
                embeddings,
                labels,
                lambda x, y, f=loss: f(x, y, scale=s),
            )
            total = total + term.weight * parts[name]
        parts["total"] = total
        return parts

    @property
    def has_secondary(self) -> bool:
        """Whether some term is trained by a second update (Complement Entropy)."""
        return any(loss.secondary_update for loss in self.terms.values())

    def secondary(
        self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float
    ) -> torch.Tensor | None:
        """Sum of weight * term for the second-update terms, from the output's logits at scale s.

        ``embeddings`` come from a fresh forward after the primary step; Complement Entropy sees
        softmax(s * cos) for cosine heads, softmax(logits) for linear heads.
        """
        if not self.has_secondary:
            return None
        logits = self.output.scaled_logits(embeddings, self._scale(scale))
        total = None
        for name, loss in self.terms.items():
            if loss.secondary_update:
                term = self.cfg.terms[name]
                value = term.weight * on_subset(
                    self._mask(term.classes, labels), logits, labels, loss.from_logits
                )
                total = value if total is None else total + value
        return total

    @property
    def secondary_optimizer_name(self) -> str:
        """The kind of the second update's optimizer its terms ask for ("" = the trial's)."""
        return next(
            (
                self.cfg.terms[n].optimizer
                for n, loss in self.terms.items()
                if loss.secondary_update and self.cfg.terms[n].optimizer
            ),
            "",
        )

    def own_optimizer_terms(self) -> dict[str, tuple[str, list[nn.Parameter]]]:
        """Terms whose learnable parameters an optimizer of their own steps with the primary update
        (``loss.terms.<name>.optimizer``): name -> (optimizer kind, the parameters)."""
        out: dict[str, tuple[str, list[nn.Parameter]]] = {}
        for name, loss in self.terms.items():
            kind = self.cfg.terms[name].optimizer
            if kind and not loss.secondary_update:
                out[name] = (kind, [p for p in loss.parameters() if p.requires_grad])
        return out

    @torch.no_grad()
    def after_step(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """Rule-based updates after the optimizer step (Center loss centers), on each term's subset."""
        for name, loss in self.terms.items():
            x, y = self._subset(self.cfg.terms[name].classes, embeddings.detach(), labels)
            if y.numel():
                loss.after_step(x, y)

    def class_weights(self) -> torch.Tensor:
        """One weight vector or proxy per class of the output term, for the proxy cosine
        statistics and histograms."""
        return self.output.class_weights()

    def parameter_groups(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """(class weights/proxies/centres, other learnable loss parameters).

        The first are the ``weight`` of the losses that declare ``weight_in_class_weight_group``
        (cosine class weights, proxies, SoftTriple's and PC's centres): the optimizer trains them
        at ``lr * class_weight_lr_multiplier`` without weight decay. The others, among them a
        linear head's weight and bias (CE, BCE, MSE), train and decay with the backbone.

        Excluded: buffers (Center loss centers, moved by their rule), the unused own heads of
        second-update terms (they read the output's logits) and the parameters of terms with an
        optimizer of their own (``own_optimizer_terms``).
        """
        class_weights: list[nn.Parameter] = []
        other: list[nn.Parameter] = []
        own = self.own_optimizer_terms()
        modules = [
            self.output,
            *(
                loss
                for name, loss in self.terms.items()
                if not loss.secondary_update and name not in own
            ),
        ]
        for module in modules:
            for name, p in module.named_parameters():
                if p.requires_grad:
                    is_class_vectors = name == "weight" and module.weight_in_class_weight_group
                    (class_weights if is_class_vectors else other).append(p)
        return class_weights, other


__all__ = ["Objective", "on_subset", "subset_mask"]
