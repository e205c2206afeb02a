"""The loss registry and its constructor."""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from trainables.registry import Registry

LOSSES: Registry[Callable[..., nn.Module]] = Registry("loss")


def build_loss(name: str, num_classes: int, embedding_dim: int, **params: Any) -> nn.Module:
    """Build loss ``name``; call it as ``loss(embeddings, labels, scale=s)`` -> batch-mean 0-dim tensor."""
    return LOSSES.get(name)(num_classes=num_classes, embedding_dim=embedding_dim, **params)
