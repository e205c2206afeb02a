"""The loss registry, its constructor, and the facts about losses that others read from it."""

from __future__ import annotations

import inspect
from typing import Any

from trainables.flat import ConfigError, typed
from trainables.losses.base import Loss, MarginRange
from trainables.registry import Registry

LOSSES: Registry[type[Loss]] = Registry("loss")


def scaled_losses() -> tuple[str, ...]:
    """The losses whose logits the scheduled scale multiplies: the ones a scale study varies."""
    return tuple(name for name in LOSSES.names() if LOSSES.get(name).scaled)


def margin_of(name: str) -> MarginRange | None:
    """The margin parameter of loss ``name`` and its search range; None when it has none."""
    return LOSSES.get(name).margin_range


def build_loss(name: str, num_classes: int, embedding_dim: int, **params: Any) -> Loss:
    """Build loss ``name``; call it as ``loss(embeddings, labels, scale=s)`` -> batch-mean 0-dim tensor.

    ``params`` are the loss's own keyword arguments (``margin_rad``, ``centers_per_class``, ...).
    An unknown parameter raises ``ConfigError`` naming the allowed ones; values arriving as strings
    or floats (from YAML, Optuna or MLflow) are converted to the type of the parameter's default.
    """
    factory = LOSSES.get(name)
    defaults = {
        p.name: p.default
        for p in inspect.signature(factory).parameters.values()
        if p.name not in ("num_classes", "embedding_dim")
    }
    for key, value in params.items():
        if key not in defaults:
            allowed = ", ".join(sorted(defaults)) or "none"
            raise ConfigError(f"loss {name!r} has no parameter {key!r}; its parameters: {allowed}")
        if isinstance(defaults[key], (bool, int, float)):
            params[key] = typed(type(defaults[key]), f"loss parameter {name}.{key}", value)
    margin = factory.margin_range
    if margin is not None and params.get(margin.param, 0.0) < 0:
        raise ConfigError(
            f"loss parameter {name}.{margin.param}={params[margin.param]!r} is invalid: a margin must be >= 0"
        )
    return factory(num_classes=num_classes, embedding_dim=embedding_dim, **params)


__all__ = ["LOSSES", "build_loss", "margin_of", "scaled_losses"]
