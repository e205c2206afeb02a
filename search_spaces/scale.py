"""The softmax scale s of cosine heads, searched log-uniformly (it spans 1 to 64 in the literature)."""
from __future__ import annotations

from typing import Any

from search_spaces.registry import SPACES

SCALE_RANGE = (1.0, 64.0)  # AdaCos gives 3.1 (C=10) to 9.8 (C=1000); CosFace/ArcFace use 64
SCALED_LOSSES = ("normface", "cosface", "arcface", "camri", "softtriple", "proxy_nca")


@SPACES.register("constant_scale")
def constant_scale(trial: Any) -> dict[str, Any]:
    """A constant scale, only for losses that have one (define-by-run keeps CE trials scale-free)."""
    output = trial.params.get("loss.output")
    if output is not None and output not in SCALED_LOSSES:
        return {}
    trial.suggest_float("scale.start", *SCALE_RANGE, log=True)
    return {"scale.schedule": "constant"}
