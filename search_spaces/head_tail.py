"""Head/tail assignments: which class subset each loss term applies to (seed 001)."""
from __future__ import annotations

from typing import Any, Sequence

from search_spaces.registry import SPACES

ASSIGNMENTS = ("none", "all", "head", "tail")


@SPACES.register("head_tail")
def head_tail(
    trial: Any,
    terms: Sequence[str] = ("pc", "complement"),
    weights: dict[str, float] | None = None,
    thresholds: Sequence[int] = (),
) -> dict[str, Any]:
    """For each term: none / all / head / tail; optionally the head threshold (images per class)."""
    weights = {"pc": 0.01, "complement": 1.0, **(weights or {})}
    constants: dict[str, Any] = {}
    for term in terms:
        where = trial.suggest_categorical(f"search.{term}_on", list(ASSIGNMENTS))
        if where != "none":
            constants[f"loss.terms.{term}.weight"] = weights.get(term, 1.0)
            constants[f"loss.terms.{term}.classes"] = where
    if thresholds:
        trial.suggest_categorical("data.head_threshold", list(thresholds))
    return constants
