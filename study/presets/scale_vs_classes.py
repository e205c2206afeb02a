"""`scale-vs-classes`: the trend study, the main job. The optimum constant scale s* of a
cosine-softmax loss (NormFace) at each class count C on the built-in glyphs, estimated by a
two-stage design (search_spaces.scale_design); `study trend` then fits s*(C) = a ln(C-1) + b and
compares it with AdaCos's sqrt(2) ln(C-1).

The design, and why:
- class counts with ln(C-1) evenly spaced, nested subsets of the whole glyph pool
  (``data.class_pool = all``): seed k's classes at a smaller C are among its classes at a larger
  C, and the character set does not change with C;
- the same number of optimizer steps per trial at every C (``STEPS``; the epochs per C follow
  from it), an lr that drops tenfold at half and three quarters of training;
- validation on fonts training never saw, apart from the test fonts (``data.validation =
  unseen_fonts``): the curve is built on generalisation to new fonts, not on memorised ones; the
  same number of validation images at every C (``VAL_IMAGES``; the images per class follow), so
  the validation set's binomial noise does not grow as C falls;
- the task kept hard enough to have an optimum: 16 px images, few training images per class;
- paired seeds: a seed sets ``train.seed`` and the class subset, the same at every scale of a C;
- stage 1 screens 8 scales over 0.5..64 on one seed at a third of the steps; stage 2 runs
  ``window_points`` scales across +-``window_half_width`` ln-units around each screen optimum
  on every seed at full length (cpu size: 10 scales over +-2 x 4 seeds, the best `study power`
  found within the 20-minute budget; for an AdaCos-size law it has power 0.97 and a's interval
  is 1.37 wide, see docs/main-job.md). No early stopping (early accuracy favours large s).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from search_spaces.scale_design import ScaleDesign
from study.presets.base import PRESETS, Preset, sized
from trainables.data.glyphs import GLYPH_TEST_PER_CLASS

BATCH = 64  # images per step
# optimizer steps per estimate-stage trial, at every C
STEPS = {"smoke": 96, "cpu": 320, "full": 3000}
# training images per class (train fonts x augmentations)
PER_CLASS = {"smoke": 16, "cpu": 16, "full": 64}
# validation images per trial, from unseen fonts, at every C (the images per class follow): the
# validation set's binomial noise was most of the replicate noise at C <= 92 with 25 per class
VAL_IMAGES = {"smoke": 512, "cpu": 8192, "full": 16384}
# test-font images per trial at most (50 per class at most): the curve never reads the test set,
# and at C = 257 its 12,850 images made evaluation 14% of a trial (the `study bench` target is 10%)
TEST_IMAGES = {"smoke": 512, "cpu": 1024, "full": 16384}
SCALE_SPACE = (0.1, 500.0)  # bounds of scale.start: hold every screen scale and every window
LR_DROPS = (0.5, 0.75)  # fractions of training at which the lr falls tenfold
HYP = {  # full size: a GPU cluster
    # lowest C, highest C, how many counts (evenly spaced in ln(C - 1))
    "class_range": (17, 257, 5),
    "screen_points": 8,  # stage 1 scales over 0.5..64
    "window_points": 9,  # stage 2 scales per C
    "window_half_width": 1.5,  # ln units: wide enough for both sides' curvature to show
    "seeds": 5,  # stage 2 paired seeds
    "data.image_size": 32,  # pixels
    "model.name": "resnet20",
}
SMALLER = {
    # minutes on 2 cores: the shape only
    "smoke": {
        "class_range": (17, 65, 3),
        "screen_points": 5,
        "window_points": 3,
        "window_half_width": 1.0,
        "seeds": 2,
        "data.image_size": 16,
        "model.name": "pool_cnn",
    },
    # a laptop, the main job
    "cpu": {
        "class_range": (33, 257, 5),
        "window_points": 10,
        "window_half_width": 2.0,
        "seeds": 4,  # the best `study power` found in 20 minutes (docs/main-job.md)
        "data.image_size": 16,  # pixels: small images keep the task from saturating
        "model.name": "pool_cnn",
    },
}
# The peaks real cpu-size runs of this design measured (2026-12-02; the split peak |ln s - v|^p
# per C with its exponent profiled, on every scale level): accuracy at the optimum, accuracy lost 1
# ln unit below the optimum (per ln-unit^2 when p = 2), above/below ratio of that loss and the
# shape exponent p from 16 paired seeds (720 estimate trials, validated on 25 images per class:
# the trained networks are the same at any validation size, so is their expected accuracy);
# training noise beyond the validation set's binomial sd, and the seed-block sd, from 8 paired
# seeds validated on VAL_IMAGES (360 estimate trials: the noise is what the validation size
# changes). `study power` simulates these at cpu size unless told otherwise; the other sizes have
# no run yet (generic defaults).
MEASURED_PEAKS = {
    "cpu": {
        "top": (0.976, 0.969, 0.931, 0.821, 0.519),
        "curvature": (0.0075, 0.0157, 0.0219, 0.0396, 0.065),
        "asymmetry": (1.91, 1.0, 1.3, 1.78, 2.38),
        "exponent": (1.25, 1.25, 1.375, 1.5, 1.25),
        "train_noise": (0.0036, 0.0034, 0.0039, 0.0118, 0.0109),
        "seed_effect": 0.015,
    }
}

# What a cpu-size run's trials took on the 2-core machine (2 trials side by side, one thread
# each; the README's `study run` on 2026-12-02 with the cores otherwise idle: 952 s): mean seconds
# per screen and per estimate trial (MLflow run start to end), and the rest of the run (Ray and
# Tune's start, the first trials' imports, rendering the data, the end). `study power --plan`
# projects minutes from them.
MEASURED_SECONDS = {
    "cpu": {
        "screen_trial": 3.83,
        "estimate_trial": 7.64,
        "fixed": 111.0,
        "workers": 2,
        "machine": "2 CPU cores",
    }
}


def class_counts(size: str) -> tuple[int, ...]:
    """C with ln(C - 1) evenly spaced between the ends of each size's range."""
    low, high, n = sized(size, HYP, SMALLER)["class_range"]
    return tuple(
        int(round(1 + math.exp(x))) for x in np.linspace(math.log(low - 1), math.log(high - 1), n)
    )


def design(size: str) -> ScaleDesign:
    """The two-stage design of each size (simulated by `study power`)."""
    hyp = sized(size, HYP, SMALLER)
    return ScaleDesign(
        class_counts=class_counts(size),
        screen_scales=tuple(
            float(f"{s:.3g}") for s in np.geomspace(0.5, 64.0, hyp["screen_points"])
        ),
        screen_fraction=1.0 / 3.0,
        window_points=hyp["window_points"],
        window_half_width=hyp["window_half_width"],
        seeds=tuple(range(hyp["seeds"])),
    )


def epochs_for(size: str, num_classes: int) -> int:
    """Epochs that make STEPS optimizer steps at this class count (as near as whole epochs allow)."""
    steps_per_epoch = math.ceil(num_classes * PER_CLASS[size] / BATCH)
    return max(1, round(STEPS[size] / steps_per_epoch))


def val_per_class(size: str, num_classes: int) -> int:
    """Validation images per class that make about VAL_IMAGES[size] at this class count."""
    return max(1, math.ceil(VAL_IMAGES[size] / num_classes))


def test_per_class(size: str, num_classes: int) -> int:
    """Test images per class: about TEST_IMAGES[size] in all, at most the glyphs' 50 per class."""
    return max(1, min(GLYPH_TEST_PER_CLASS, math.ceil(TEST_IMAGES[size] / num_classes)))


def lr_milestones(epochs: int) -> str:
    drops = sorted({max(1, round(f * epochs)) for f in LR_DROPS} - {epochs})
    return ",".join(map(str, drops))


def build(size: str, data_root: str) -> dict[str, Any]:
    plan, hyp = design(size), sized(size, HYP, SMALLER)
    groups = tuple(
        {
            "data.num_classes": c,
            "train.epochs": epochs_for(size, c),
            "optim.lr_milestones": lr_milestones(epochs_for(size, c)),
            "data.val_per_class": val_per_class(size, c),
            "data.test_per_class": test_per_class(size, c),
        }
        for c in plan.class_counts
    )
    return dict(
        trials=plan.estimate_trials,
        base={
            "data.name": "glyphs",
            "data.class_pool": "all",  # nested class subsets from one pool
            "data.validation": "unseen_fonts",
            "data.image_size": hyp["data.image_size"],
            "data.max_per_class": PER_CLASS[size],
            "loss.output": "normface",
            "model.name": hyp["model.name"],
            "model.embedding_dim": 64,
            "train.batch_size": BATCH,
            "train.validate_every": 0,  # validation only after the last epoch: the curve needs the end point, and at C = 257 a pass per epoch costs half the training
            "train.silhouette_samples": 2000,  # a side metric here; on all 12,850 test images at C = 257 it cost 5.6 s of a 13 s trial
            "train.gradcam_images": 0,  # no Grad-CAM grid: the curve never reads it, and its import (torchvision) cost each fresh worker 2.7 s
            "optim.name": "adam",
            "optim.lr": 0.003,  # cosine heads learn slowly with plain SGD at lr 0.05
        },
        groups=groups,
        spaces=("constant_scale", "seeds"),
        space_options={
            "constant_scale": {"low": SCALE_SPACE[0], "high": SCALE_SPACE[1]},
            "seeds": {"seeds": plan.seeds},
        },
        sampler="grid",
        scheduler="none",  # every trial trains fully: early accuracy favours large scales
        design=asdict(plan),
        description=(
            f"optimum NormFace scale for C in {list(plan.class_counts)} on the built-in glyphs: "
            f"screen {len(plan.screen_scales)} scales, then {plan.window_points} scales x the paired "
            f"seeds ({len(plan.seeds)} unless --seeds) per C, {STEPS[size]} steps per trial"
        ),
    )


PRESETS.register("scale-vs-classes")(
    Preset(
        "main job: optimum cosine-softmax scale for each class count C (glyphs), fit s*(C)", build
    )
)
