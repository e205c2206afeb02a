"""Margins of the cosine family, in the loss's own unit (names carry it: margin_rad, margin_cos)."""
from __future__ import annotations

from typing import Any, Sequence

from search_spaces.registry import SPACES

MARGIN_RANGES = {  # loss -> (parameter, low, high); typical values: CosFace 0.35, ArcFace/CAMRI 0.5 rad
    "cosface": ("margin_cos", 0.0, 0.5),
    "arcface": ("margin_rad", 0.0, 0.8),
    "camri": ("margin_rad", 0.0, 1.0),
}


@SPACES.register("margin")
def margin(trial: Any, losses: Sequence[str] | None = None) -> dict[str, Any]:
    """Margin type (which margin loss) and value; with ``losses`` the type is searched too."""
    output = trial.suggest_categorical("loss.output", list(losses)) if losses else trial.params.get("loss.output")
    if output not in MARGIN_RANGES:
        return {}
    name, low, high = MARGIN_RANGES[output]
    trial.suggest_float(f"loss.params.{name}", low, high)
    return {}
