"""Nuisance parameters, kept apart from the parameters under study."""
from __future__ import annotations

from typing import Any

from search_spaces.registry import SPACES

LR_RANGE = (1e-3, 0.3)  # momentum SGD on small CNNs; log-uniform


@SPACES.register("lr")
def learning_rate(trial: Any) -> dict[str, Any]:
    trial.suggest_float("optim.lr", *LR_RANGE, log=True)
    return {}
