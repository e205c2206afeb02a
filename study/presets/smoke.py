"""`smoke`: the walking skeleton: CE or NormFace head, scale and lr, on scikit-learn's digits."""

from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, sized

HYP = {  # full size: a search long enough for TPE to settle on a scale and an lr
    "trials": 100,
    "train.epochs": 30,
}
SMALLER = {
    # seconds per trial: it only has to show every part runs
    "smoke": {"trials": 4, "train.epochs": 4},
    "cpu": {"trials": 24, "train.epochs": 15},  # a laptop, under an hour
}


def build(size: str, data_root: str) -> dict[str, Any]:
    hyp = sized(size, HYP, SMALLER)
    return dict(
        trials=hyp["trials"],
        base={
            "data.name": "digits",
            "data.augment": False,
            "model.name": "small_cnn",
            "model.embedding_dim": 32,
            "train.epochs": hyp["train.epochs"],
            "train.batch_size": 64,
        },
        spaces=("head_type", "constant_scale", "lr"),
        description="CE vs cosine head with a searched scale and lr on scikit-learn's digits",
    )


PRESETS.register("smoke")(
    Preset(
        "walking skeleton: CE or NormFace head, scale and lr on digits (seconds per trial)",
        build,
        default_size="smoke",
    )
)
