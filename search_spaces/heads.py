"""Which output head the trial uses: a linear softmax head (CE) or a cosine head (NormFace)."""
from __future__ import annotations

from typing import Any

from search_spaces.registry import SPACES


@SPACES.register("head_type")
def head_type(trial: Any) -> dict[str, Any]:
    trial.suggest_categorical("loss.output", ["ce", "normface"])
    return {}
