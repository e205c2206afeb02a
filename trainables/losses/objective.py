"""The objective of a trial: an output-space term plus weighted extra terms on class subsets."""
from __future__ import annotations

import torch
from torch import nn

from trainables.config import LossConfig
from trainables.losses.registry import build_loss


def subset_mask(classes: str, labels: torch.Tensor, head: tuple[int, ...], tail: tuple[int, ...]) -> torch.Tensor | None:
    """Boolean mask of the samples whose label is in the subset; None means all samples."""
    if classes == "all":
        return None
    chosen = {"head": head, "tail": tail}.get(classes)
    if chosen is None:
        chosen = tuple(int(c) for c in classes.split(","))
    allowed = torch.zeros(max(max(chosen, default=0), int(labels.max()) if labels.numel() else 0) + 1, dtype=torch.bool, device=labels.device)
    allowed[list(chosen)] = True
    return allowed[labels]


class Objective(nn.Module):
    """Total loss = output term + sum of weight * term, each term on its class subset."""

    def __init__(self, cfg: LossConfig, num_classes: int, embedding_dim: int, head: tuple[int, ...], tail: tuple[int, ...]) -> None:
        super().__init__()
        self.cfg, self.head, self.tail = cfg, head, tail
        self.output = build_loss(cfg.output, num_classes, embedding_dim, **cfg.params)
        self.terms = nn.ModuleDict(
            {name: build_loss(name, num_classes, embedding_dim, **t.params) for name, t in cfg.terms.items()}
        )

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.output.logits(embeddings)

    def _term(self, loss: nn.Module, classes: str, embeddings, labels, scale) -> torch.Tensor:
        mask = subset_mask(classes, labels, self.head, self.tail)
        if mask is not None:
            if not bool(mask.any()):
                return embeddings.sum() * 0.0
            embeddings, labels = embeddings[mask], labels[mask]
        return loss(embeddings, labels, scale=scale)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, scale: float) -> dict[str, torch.Tensor]:
        parts = {self.cfg.output: self._term(self.output, self.cfg.output_classes, embeddings, labels, scale)}
        total = parts[self.cfg.output]
        for name, loss in self.terms.items():
            term = self.cfg.terms[name]
            parts[name] = self._term(loss, term.classes, embeddings, labels, scale)
            total = total + term.weight * parts[name]
        parts["total"] = total
        return parts
