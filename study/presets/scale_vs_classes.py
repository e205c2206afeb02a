"""`scale-vs-classes`: the trend study, the main job. For each class count C, search the optimum
constant scale of a cosine-softmax loss (NormFace) on the built-in glyphs; `study trend` then fits
s*(C) = a ln(C-1) + b and compares it with AdaCos's sqrt(2) ln(C-1)."""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size


def build(size: str, data_root: str) -> dict[str, Any]:
    class_counts = by_size(size, (5, 10, 20), (10, 20, 40, 80), (10, 25, 50, 100, 200))
    return dict(
        trials=by_size(size, 3, 8, 40),
        base={
            "data.name": "glyphs",
            "data.image_size": by_size(size, 16, 24, 32),  # pixels: the small CNN costs ~pixels; keeps cpu under an hour
            "data.max_per_class": by_size(size, 80, 100, 200),  # training images per class (fonts x augmentations)
            "loss.output": "normface",
            "model.name": by_size(size, "small_cnn", "small_cnn", "resnet20"),
            "model.embedding_dim": 64,
            "train.epochs": by_size(size, 6, 8, 60),
            "train.batch_size": by_size(size, 64, 128, 128),  # small sets need enough steps per epoch
            "optim.name": "adam", "optim.lr": 0.003,  # cosine heads learn slowly with plain SGD at lr 0.05
        },
        groups=tuple({"data.num_classes": c} for c in class_counts),
        spaces=("constant_scale",),
        space_options={"constant_scale": {"low": 1.0, "high": 64.0}},
        scheduler="none",  # every trial trains fully: the trend needs the whole metric-vs-scale curve
        description=f"optimum NormFace scale for C in {list(class_counts)} on the built-in glyphs",
    )


PRESETS.register("scale-vs-classes")(Preset("main job: optimum cosine-softmax scale for each class count C (glyphs), fit s*(C)", build))
