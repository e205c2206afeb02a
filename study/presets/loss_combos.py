"""`loss-combos` (seed 000): CE / Complement Entropy x none / Center / PC, after CE pre-training.

Full size is the paper's protocol: ResNet-20 on CIFAR-10, momentum SGD, batch 128, dropout 0.3,
200 epochs after 100 epochs of CE; the grid fills the 2 x 3 table once. Silhouette and
Calinski-Harabasz on test features and Grad-CAM maps are recorded with each trial.
"""
from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, by_size, data_for

FEATURE_WEIGHT = 0.01  # lambda of Center and PC in the table


def build(size: str, data_root: str) -> dict[str, Any]:
    data, note = data_for("cifar10", size, data_root, glyph_classes=by_size(size, 10, 20, 20))
    return dict(
        trials=6,
        base={
            **data,
            "model.name": by_size(size, "small_cnn", "small_cnn", "resnet20"),
            "model.dropout": 0.3,
            "train.pretrain_epochs": by_size(size, 1, 3, 100),
            "train.epochs": by_size(size, 2, 8, 200),
            "train.batch_size": 128,
            "optim.name": "sgd_momentum", "optim.lr": 0.1 if size == "full" else 0.05,
            "optim.lr_milestones": by_size(size, "", "", "200,250"),
        },
        spaces=("loss_combination",),
        space_options={"loss_combination": {"weight": FEATURE_WEIGHT}},
        sampler="grid",
        seeds=by_size(size, 2, 3, 3),  # paired seeds: every cell on the same seeds (--seeds)
        grid={"search.output": ("ce", "complement_ce"), "search.feature": ("none", "center", "pc")},
        scheduler="none",
        description="CE/CoE x none/Center/PC table (seed 000)" + note,
    )


PRESETS.register("loss-combos")(Preset("seed 000: CE/CoE x none/Center/PC on CIFAR-10, ResNet-20, CE pre-training", build))
