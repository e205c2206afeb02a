"""Loss combinations: the output-space term and the weighted extra terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_spaces.registry import SPACES

# Center/PC weights used in seeds 000/001 lie in 0.001-0.1; search wider
FEATURE_WEIGHT_RANGE = (1e-3, 1.0)


@SPACES.register("head_type")
def head_type(trial: Any, choices: Sequence[str] = ("ce", "normface")) -> dict[str, Any]:
    """Which output-space loss owns the classifier."""
    trial.suggest_categorical("loss.output", list(choices))
    return {}


@SPACES.register("loss_combination")
def loss_combination(
    trial: Any,
    outputs: Sequence[str] = ("ce", "complement_ce"),
    features: Sequence[str] = ("none", "center", "pc"),
    weight_range: Sequence[float] = FEATURE_WEIGHT_RANGE,
    weight: float | None = None,
) -> dict[str, Any]:
    """Output term x feature term (seed 000's 2 x 3 table); ``complement_ce`` = CE plus COT's second update.

    With ``weight`` the feature term's weight is fixed (a grid then fills the table exactly once).
    """
    output = trial.suggest_categorical("search.output", list(outputs))
    feature = trial.suggest_categorical("search.feature", list(features))
    constants: dict[str, Any] = {"loss.output": "ce"}
    if output == "complement_ce":
        constants["loss.terms.complement.weight"] = 1.0
    if feature != "none" and weight is not None:
        constants[f"loss.terms.{feature}.weight"] = weight
    elif feature != "none":
        trial.suggest_float(f"loss.terms.{feature}.weight", *weight_range, log=True)
    return constants
