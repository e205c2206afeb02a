"""`camri` (seed 004): an angular margin only for one important class; NSGA-II trades overall
accuracy against that class's recall."""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size, data_for

IMPORTANT_CLASS = 3  # CIFAR-10's "cat", the class CE recalls worst


def build(size: str, data_root: str) -> dict[str, Any]:
    data, note = data_for("cifar10", size, data_root, glyph_classes=by_size(size, 10, 20, 20))
    return dict(
        trials=by_size(size, 4, 24, 64),
        base={
            **data,
            "model.name": by_size(size, "small_cnn", "small_cnn", "resnet20"),
            "loss.output": "camri",
            "loss.params.important_class": IMPORTANT_CLASS,
            "train.epochs": by_size(size, 2, 8, 200),
            "train.batch_size": 128,
            "optim.lr": 0.05,
        },
        spaces=("margin", "constant_scale"),
        sampler="nsga2",
        scheduler="none",
        metric="val_accuracy,val_important_class_recall",
        mode="max,max",
        description="CAMRI margin and scale: accuracy vs important-class recall (seed 004)" + note,
    )


PRESETS.register("camri")(Preset("seed 004: CAMRI, important-class recall vs accuracy (NSGA-II)", build))
