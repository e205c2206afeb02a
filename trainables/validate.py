"""Checks that need the registries: names of the dataset, model, losses and their parameters.

Run before Ray starts, so a typo is one line naming the key instead of a failed trial.
"""

from __future__ import annotations

import inspect

from trainables.config import ConfigError, TrialConfig

GLYPH_ONLY_DATASETS = ("glyphs",)  # data.class_pool and data.validation = unseen_fonts need fonts


def check_names(cfg: TrialConfig) -> None:
    from trainables.data import DATASETS
    from trainables.losses import LOSSES
    from trainables.models import MODELS

    for key, value, registry in (
        ("data.name", cfg.data.name, DATASETS),
        ("model.name", cfg.model.name, MODELS),
        ("loss.output", cfg.loss.output, LOSSES),
        *((f"loss.terms.{name}", name, LOSSES) for name in cfg.loss.terms),
    ):
        if value not in registry:
            raise ConfigError(
                f"{key}={value!r} is unknown; choose one of: {', '.join(registry.names())}"
            )
    for key, value, default in (
        ("data.class_pool", cfg.data.class_pool, "smallest"),
        ("data.validation", cfg.data.validation, "holdout"),
    ):
        if value != default and cfg.data.name not in GLYPH_ONLY_DATASETS:
            raise ConfigError(
                f"{key}={value!r} is only for the built-in glyphs; data.name={cfg.data.name!r} takes {default!r}"
            )
    _check_params("loss.params", LOSSES.get(cfg.loss.output), cfg.loss.params)
    for name, term in cfg.loss.terms.items():
        _check_params(f"loss.terms.{name}.params", LOSSES.get(name), term.params)
    _check_builds(cfg)


def _check_builds(cfg: TrialConfig) -> None:
    """Build the objective and the model once on the CPU: a bad parameter value or a missing
    weights file fails here with its own message instead of inside every trial."""
    from trainables.losses import Objective
    from trainables.models import build_model

    # 0 = all of the dataset's classes, known only once it loads
    classes = cfg.data.num_classes or 100
    try:
        Objective(
            cfg.loss,
            classes,
            cfg.model.embedding_dim,
            head=(0,),
            tail=(1,),
            dynamic=cfg.scale.schedule == "adacos_dynamic",
            data={"important_class": cfg.data.important_class},
        )
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"loss: {str(exc).strip().splitlines()[0]}") from None
    try:
        build_model(cfg.model, 1, 32)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"model: {str(exc).strip().splitlines()[0]}") from None


def _check_params(prefix: str, factory: object, params: dict) -> None:
    accepted = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    # set as data.<name>, never as a loss parameter
    from_data = set(getattr(factory, "data_params", ()))
    allowed = sorted(set(accepted) - {"self", "num_classes", "embedding_dim"} - from_data)
    for key in params:
        if key in from_data:
            raise ConfigError(f"{prefix}.{key} is a fact of the data: set data.{key} instead")
        if key not in accepted:
            raise ConfigError(
                f"{prefix}.{key} is unknown for this loss; it takes: {', '.join(allowed) or 'no parameters'}"
            )


def check_data(cfg: TrialConfig) -> None:
    """Load the trial's dataset once on the CPU (which also fills its cache for the trials) and
    check what only the data can tell: the files exist, the class count fits, and a term on the
    head or tail classes has classes to act on."""
    from trainables.data import DatasetError, load_dataset

    try:
        data = load_dataset(cfg.data, torch_cpu())
    except (DatasetError, FileNotFoundError) as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None
    subsets = {"loss.output_classes": cfg.loss.output_classes}
    subsets.update(
        {f"loss.terms.{name}.classes": term.classes for name, term in cfg.loss.terms.items()}
    )
    for key, classes in subsets.items():
        if classes in ("head", "tail"):
            chosen = data.head_classes if classes == "head" else data.tail_classes
            if not chosen:
                raise ConfigError(
                    f"{key}={classes!r} is empty: no class has {'>=' if classes == 'head' else '<'} "
                    f"data.head_threshold={cfg.data.head_threshold} training images (largest class: {int(data.class_counts.max())})"
                )
        elif classes != "all":
            bad = [c for c in classes.split(",") if int(c) >= data.num_classes]
            if bad:
                raise ConfigError(
                    f"{key}={classes!r} names classes {', '.join(bad)}; the dataset has classes 0..{data.num_classes - 1}"
                )
    important = cfg.data.important_class
    if important >= 0 and not important < data.num_classes:
        raise ConfigError(
            f"data.important_class={important} is not a class; expected -1 (none) or 0..{data.num_classes - 1}"
        )


def torch_cpu():
    import torch

    return torch.device("cpu")
