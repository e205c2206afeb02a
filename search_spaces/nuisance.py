"""Nuisance parameters (lr, weight decay, batch size), kept apart from the parameters under study."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_spaces.registry import SPACES

LR_RANGE = (1e-3, 0.3)  # momentum SGD on small CNNs; log-uniform
WEIGHT_DECAY_RANGE = (1e-5, 1e-3)


@SPACES.register("lr")
def learning_rate(
    trial: Any, low: float = LR_RANGE[0], high: float = LR_RANGE[1]
) -> dict[str, Any]:
    trial.suggest_float("optim.lr", low, high, log=True)
    return {}


@SPACES.register("nuisance")
def nuisance(
    trial: Any,
    lr: Sequence[float] = LR_RANGE,
    weight_decay: Sequence[float] = WEIGHT_DECAY_RANGE,
    batch_sizes: Sequence[int] = (),
) -> dict[str, Any]:
    """lr and weight decay log-uniform; batch size from a list when given."""
    trial.suggest_float("optim.lr", *lr, log=True)
    trial.suggest_float("optim.weight_decay", *weight_decay, log=True)
    if batch_sizes:
        trial.suggest_categorical("train.batch_size", list(batch_sizes))
    return {}
