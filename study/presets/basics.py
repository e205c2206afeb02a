"""`basics` (seed 003): which output loss goes with which output layer: BCE + sigmoid,
CE + softmax, MSE on softmax."""

from __future__ import annotations

from typing import Any

from study.presets.base import PRESETS, Preset, data_for, sized

HYP = {  # full size: MNIST (seed 003 is a tutorial and states no protocol; these values are ours)
    "train.epochs": 30,
    "seeds": 3,  # paired seeds: every cell on the same seeds (--seeds)
}
SMALLER = {  # scikit-learn's 8x8 digits (bundled, seconds per trial) instead of MNIST
    "smoke": {"train.epochs": 3, "seeds": 2},  # minutes on 2 cores; two seeds still make a pair
    "cpu": {"train.epochs": 15},  # a laptop, under an hour
}


def build(size: str, data_root: str) -> dict[str, Any]:
    hyp = sized(size, HYP, SMALLER)
    data, note = (
        data_for("mnist", size, data_root, glyph_classes=10)
        if size == "full"
        else ({"data.name": "digits", "data.augment": False}, "")
    )
    return dict(
        trials=3,
        base={
            **data,
            "model.name": "small_cnn",
            "train.epochs": hyp["train.epochs"],
            "train.batch_size": 64,
        },
        spaces=("head_type",),
        space_options={"head_type": {"choices": ("bce", "ce", "mse")}},
        sampler="grid",
        seeds=hyp["seeds"],
        grid={"loss.output": ("bce", "ce", "mse")},
        scheduler="none",
        description="BCE / CE / MSE output losses (seed 003)"
        + note
        + ". Departs from the source: "
        + departures(size),
    )


def departures(size: str) -> str:
    """What this preset changes from seed 003's pairs, and why."""
    data = "MNIST" if size == "full" else "scikit-learn's 8x8 digits (bundled, seconds per trial)"
    return (
        "seed 003 is a tutorial with no experiment or numbers: it pairs BCE with a sigmoid for two classes, CE with "
        "softmax for several and MSE with a linear output for regression; here all three train the same "
        f"10-class classifier on {data} (BCE one-vs-rest, MSE between softmax and the one-hot target, averaged over "
        "the classes as in the seed), each on "
        f"paired seeds (by default {sized(size, HYP, SMALLER)['seeds']}), and are contrasted with CE + softmax."
    )


PRESETS.register("basics")(
    Preset("seed 003: BCE/CE/MSE output pairs", build, departures=departures)
)
