"""Head/tail assignments: which class subset each loss term applies to (seed 001)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from search_spaces.registry import SPACES

ASSIGNMENTS = ("none", "all", "head", "tail")
# seed 001's optimizers: CE and Complement Entropy by momentum SGD, PC (its class centres) by plain SGD
SEED_001_OPTIMIZERS = {"pc": "sgd", "complement": "sgd_momentum"}


@SPACES.register("head_tail")
def head_tail(
    trial: Any,
    terms: Sequence[str] = ("pc", "complement"),
    weights: dict[str, float] | None = None,
    thresholds: Sequence[int] = (),
    optimizers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """For each term: none / all / head / tail; optionally the head threshold (images per class).

    ``optimizers`` gives a term that is on the optimizer of its own updates
    (``loss.terms.<term>.optimizer``, e.g. ``SEED_001_OPTIMIZERS``); terms not named use the trial's.
    """
    weights = {"pc": 0.01, "complement": 1.0, **(weights or {})}
    optimizers = dict(optimizers or {})
    constants: dict[str, Any] = {}
    for term in terms:
        where = trial.suggest_categorical(f"search.{term}_on", list(ASSIGNMENTS))
        if where != "none":
            constants[f"loss.terms.{term}.weight"] = weights.get(term, 1.0)
            constants[f"loss.terms.{term}.classes"] = where
            if term in optimizers:
                constants[f"loss.terms.{term}.optimizer"] = optimizers[term]
    if thresholds:
        trial.suggest_categorical("data.head_threshold", list(thresholds))
    return constants
