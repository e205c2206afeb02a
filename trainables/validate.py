"""Checks that need the registries: names of the dataset, model, losses and their parameters.

Run before Ray starts, so a typo is one line naming the key instead of a failed trial.
"""
from __future__ import annotations

import inspect

from trainables.config import ConfigError, TrialConfig


def check_names(cfg: TrialConfig) -> None:
    from trainables.data import DATASETS
    from trainables.losses import LOSSES
    from trainables.models import MODELS

    for key, value, registry in (
        ("data.name", cfg.data.name, DATASETS),
        ("model.name", cfg.model.name, MODELS),
        ("loss.output", cfg.loss.output, LOSSES),
        *((f"loss.terms.{name}", name, LOSSES) for name in cfg.loss.terms),
    ):
        if value not in registry:
            raise ConfigError(f"{key}={value!r} is unknown; choose one of: {', '.join(registry.names())}")
    _check_params("loss.params", LOSSES.get(cfg.loss.output), cfg.loss.params)
    for name, term in cfg.loss.terms.items():
        _check_params(f"loss.terms.{name}.params", LOSSES.get(name), term.params)


def _check_params(prefix: str, factory: object, params: dict) -> None:
    accepted = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    allowed = sorted(set(accepted) - {"self", "num_classes", "embedding_dim"})
    for key in params:
        if key not in accepted:
            raise ConfigError(f"{prefix}.{key} is unknown for this loss; it takes: {', '.join(allowed) or 'no parameters'}")
