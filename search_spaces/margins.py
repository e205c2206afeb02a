"""Margins of the cosine family, in the loss's own unit (names carry it: margin_rad, margin_cos).

Each loss declares its margin parameter and search range (``margin_range`` on its class).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_spaces.registry import SPACES


@SPACES.register("margin")
def margin(trial: Any, losses: Sequence[str] | None = None) -> dict[str, Any]:
    """Margin type (which margin loss) and value; with ``losses`` the type is searched too."""
    from trainables.losses.registry import LOSSES, margin_of  # torch: only once a space runs

    output = (
        trial.suggest_categorical("loss.output", list(losses))
        if losses
        else trial.params.get("loss.output")
    )
    declared = margin_of(output) if output in LOSSES else None
    if declared is None:
        return {}
    trial.suggest_float(f"loss.params.{declared.param}", declared.low, declared.high)
    return {}
