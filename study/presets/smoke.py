"""`smoke`: the walking skeleton: CE or NormFace head, scale and lr, on scikit-learn's digits."""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size


def build(size: str, data_root: str) -> dict[str, Any]:
    return dict(
        trials=by_size(size, 4, 24, 100),
        base={
            "data.name": "digits", "data.augment": False,
            "model.name": "small_cnn", "model.embedding_dim": 32,
            "train.epochs": by_size(size, 4, 15, 30), "train.batch_size": 64,
        },
        spaces=("head_type", "constant_scale", "lr"),
        description="CE vs cosine head with a searched scale and lr on scikit-learn's digits",
    )


PRESETS.register("smoke")(Preset("walking skeleton: CE or NormFace head, scale and lr on digits (seconds per trial)", build, default_size="smoke"))
