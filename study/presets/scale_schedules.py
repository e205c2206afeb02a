"""`scale-schedules` (seed 002): SoftTriple on CUB-200 / Cars-196 split by class; constant scales,
then additional training with linear, step or quadratic decay of the scale; Recall@1 on unseen classes.

Full size: GoogLeNet backbone (torchvision's, standing in for BN-Inception), embedding 64, batch 32,
Adam (backbone 1e-4, proxies x100), lr x0.1 at epochs 20 and 40, K=10 centers per class.
"""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size, data_for


def build(size: str, data_root: str) -> dict[str, Any]:
    data, note = data_for("cub200", size, data_root, glyph_classes=by_size(size, 10, 40, 40))
    epochs = by_size(size, 2, 6, 50)
    groups = ({"data.name": "cub200"}, {"data.name": "cars196"}) if not note else ({},)
    return dict(
        trials=by_size(size, 4, 16, 60),
        base={
            **data,
            "model.name": by_size(size, "small_cnn", "small_cnn", "googlenet"),
            "model.embedding_dim": 64,
            "loss.output": "softtriple",
            "loss.params.centers_per_class": by_size(size, 2, 4, 10),
            "train.epochs": epochs,
            "train.batch_size": by_size(size, 64, 64, 32),
            "optim.name": "adam", "optim.lr": 1e-4 if size == "full" else 1e-3,
            "optim.class_weight_lr_multiplier": 100.0,
            "optim.lr_milestones": by_size(size, "", "", "20,40"),
        },
        groups=groups,
        spaces=("scale_schedule",),
        space_options={"scale_schedule": {"epochs": epochs}},
        metric="test_recall_at_1" if not note else "val_accuracy",
        scheduler="none",
        description="SoftTriple scale schedules and additional training (seed 002)" + note,
    )


PRESETS.register("scale-schedules")(Preset("seed 002: SoftTriple scale schedules + additional training on CUB/Cars, Recall@1", build))
