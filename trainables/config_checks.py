"""What each TrialConfig field allows: the choices and range checks, apart from the declarations in
``trainables.config``. A value that breaks a rule raises ``ConfigError`` naming the flat key, the
value and what is allowed (``train.epochs=0 is invalid: expected >= 1``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from trainables.flat import ConfigError

CLASS_SUBSETS = ("all", "head", "tail")  # or an explicit comma list of class indices such as 0,3,7
CLASS_POOLS = ("smallest", "all")
VALIDATIONS = ("holdout", "unseen_fonts")
SCALE_SCHEDULES = (
    "constant",
    "linear",
    "step",
    "quadratic",
    "cosine",
    "adacos_fixed",
    "adacos_dynamic",
)
OPTIMIZERS = ("sgd_momentum", "sgd", "adam")
DEVICES = ("auto", "cpu", "cuda")

# (field, holds for an allowed value, what is allowed)
Rule = tuple[str, Callable[[Any], bool], str]


def one_of(field: str, choices: tuple[str, ...]) -> Rule:
    return field, lambda v: v in choices, f"choose one of: {', '.join(choices)}"


def is_class_subset(value: str) -> bool:
    parts = [p.strip() for p in value.split(",")]
    return value in CLASS_SUBSETS or all(p.isdigit() for p in parts)


CLASS_SUBSET_HELP = "expected all, head, tail or a comma list of class indices like 0,3,7"

RULES: dict[str, tuple[Rule, ...]] = {
    "data": (
        ("num_classes", lambda v: v >= 0, "expected 0 (all) or a positive class count"),
        ("num_classes", lambda v: v != 1, "a classifier needs at least 2 classes"),
        ("imbalance_ratio", lambda v: v >= 1.0, "expected >= 1 (1 = balanced)"),
        ("max_per_class", lambda v: v >= 0, "expected >= 0 (0 = all)"),
        ("head_threshold", lambda v: v >= 1, "expected >= 1"),
        ("val_fraction", lambda v: 0.0 < v < 0.9, "expected 0 < val_fraction < 0.9"),
        ("image_size", lambda v: v == 0 or v >= 8, "expected 0 (dataset default) or >= 8 pixels"),
        one_of("class_pool", CLASS_POOLS),
        one_of("validation", VALIDATIONS),
        ("val_per_class", lambda v: v >= 0, "expected >= 0 (0 = the dataset's default)"),
        ("test_per_class", lambda v: v >= 0, "expected >= 0 (0 = the dataset's default)"),
        ("important_class", lambda v: v >= -1, "expected -1 (none) or a class index"),
        ("val_classes", lambda v: v >= 0, "expected 0 (none) or a number of classes"),
    ),
    "model": (
        ("embedding_dim", lambda v: v >= 2, "expected >= 2"),
        ("dropout", lambda v: 0.0 <= v < 1.0, "expected 0 <= dropout < 1"),
    ),
    "loss": (("output_classes", is_class_subset, CLASS_SUBSET_HELP),),
    "loss.terms": (  # each term, under loss.terms.<name>
        ("classes", is_class_subset, CLASS_SUBSET_HELP),
        ("weight", lambda v: v >= 0, "expected >= 0"),
        (
            "optimizer",
            lambda v: v in ("", *OPTIMIZERS),
            f"choose one of: {', '.join(OPTIMIZERS)} (or leave it out: the trial's optimizer)",
        ),
    ),
    "scale": (
        one_of("schedule", SCALE_SCHEDULES),
        ("start", lambda v: v > 0, "the softmax scale must be > 0"),
        ("end", lambda v: v > 0, "the softmax scale must be > 0"),
        ("switch_at", lambda v: 0.0 <= v <= 1.0, "expected a progress fraction in [0, 1]"),
    ),
    "optim": (
        one_of("name", OPTIMIZERS),
        ("lr", lambda v: v > 0, "expected > 0"),
        ("momentum", lambda v: 0 <= v < 1, "expected 0 <= momentum < 1"),
        ("weight_decay", lambda v: v >= 0, "expected >= 0"),
        ("class_weight_lr_multiplier", lambda v: v > 0, "expected > 0"),
        ("lr_gamma", lambda v: 0 < v <= 1, "expected 0 < lr_gamma <= 1"),
    ),
    "train": (
        ("epochs", lambda v: v >= 1, "expected >= 1"),
        ("pretrain_epochs", lambda v: v >= 0, "expected >= 0"),
        ("additional_epochs", lambda v: v >= 0, "expected >= 0"),
        ("batch_size", lambda v: v >= 2, "expected >= 2"),
        one_of("device", DEVICES),
        ("threads", lambda v: v >= 0, "expected >= 0"),
        (
            "validate_every",
            lambda v: v >= 0,
            "expected >= 0 epochs (0 = only after the last epoch)",
        ),
        (
            "silhouette_samples",
            lambda v: v == 0 or v >= 2,
            "expected 0 (skip the score) or >= 2 embeddings",
        ),
        ("gradcam_images", lambda v: v >= 0, "expected >= 0 images (0 = no Grad-CAM grid)"),
    ),
}


def check(section: str, config: Any, prefix: str = "") -> None:
    """Apply ``RULES[section]`` to the fields of ``config``, named ``prefix or section`` + field,
    after ``check_finite``."""
    check_finite(section, config, prefix)
    for name, holds, allowed in RULES[section]:
        value = getattr(config, name)
        if not holds(value):
            raise ConfigError(f"{prefix or section}.{name}={value!r} is invalid: {allowed}")


def check_finite(section: str, config: Any, prefix: str = "") -> None:
    """No number field of ``config`` is NaN or infinite (no field means "unbounded" by inf)."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                f"{prefix or section}.{f.name}={value!r} is invalid: expected a finite number"
            )


def check_loss(loss: Any) -> None:
    """The output's class subset and every term's classes, weight and optimizer; every loss
    parameter finite."""
    check("loss", loss)
    _check_finite_params("loss.params", loss.params)
    for name, term in loss.terms.items():
        check("loss.terms", term, prefix=f"loss.terms.{name}")
        _check_finite_params(f"loss.terms.{name}.params", term.params)


def _check_finite_params(prefix: str, params: Any) -> None:
    for key, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{prefix}.{key}={value!r} is invalid: expected a finite number")


__all__ = [
    "CLASS_POOLS",
    "CLASS_SUBSETS",
    "DEVICES",
    "OPTIMIZERS",
    "RULES",
    "SCALE_SCHEDULES",
    "VALIDATIONS",
    "check",
    "check_finite",
    "check_loss",
    "is_class_subset",
]
