"""`basics` (seed 003): which output loss goes with which output layer: BCE + sigmoid,
CE + softmax, MSE on softmax."""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size, data_for


def build(size: str, data_root: str) -> dict[str, Any]:
    data, note = data_for("mnist", size, data_root, glyph_classes=10) if size == "full" else ({"data.name": "digits", "data.augment": False}, "")
    return dict(
        trials=3,
        base={**data, "model.name": "small_cnn", "train.epochs": by_size(size, 3, 15, 30), "train.batch_size": 64},
        spaces=("head_type",),
        space_options={"head_type": {"choices": ("bce", "ce", "mse")}},
        sampler="grid",
        seeds=by_size(size, 2, 3, 3),  # paired seeds: every cell on the same seeds (--seeds)
        grid={"loss.output": ("bce", "ce", "mse")},
        scheduler="none",
        description="BCE / CE / MSE output losses (seed 003)" + note,
    )


PRESETS.register("basics")(Preset("seed 003: BCE/CE/MSE output pairs", build))
