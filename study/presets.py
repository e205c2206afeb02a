"""Presets: named studies, each with a smoke, cpu and full size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from trainables.registry import Registry

SIZES = ("smoke", "cpu", "full")


@dataclass(frozen=True)
class Preset:
    summary: str  # one line for `study presets`
    build: Callable[[str], dict[str, Any]]  # size -> StudySpec fields


PRESETS: Registry[Preset] = Registry("preset")


def _smoke(size: str) -> dict[str, Any]:
    epochs = {"smoke": 4, "cpu": 15, "full": 30}[size]
    return dict(
        trials={"smoke": 4, "cpu": 24, "full": 100}[size],
        base={
            "data.name": "digits",
            "model.name": "small_cnn",
            "model.embedding_dim": 32,
            "train.epochs": epochs,
            "train.batch_size": 64,
            "data.augment": False,
        },
        spaces=("head_type", "constant_scale", "lr"),
        description="CE vs cosine head with a searched scale and lr on scikit-learn's digits",
    )


PRESETS.register("smoke")(Preset("walking skeleton: CE or NormFace head, scale and lr on digits (seconds per trial)", _smoke))
