"""TrialConfig: one frozen, nested description of a trial.

``from_flat``/``to_flat`` are the only places where string keys are read or written.
A flat key is the dotted path of a field (``loss.output``, ``scale.start``); the mappings
``loss.params`` and ``loss.terms`` extend it (``loss.params.margin_rad``,
``loss.terms.pc.weight``). Unknown keys and out-of-range values raise ``ConfigError``
naming the key, the value and what is allowed. Keys under ``search.`` label a sampled choice
(``search.feature=pc``) for the sampler and the records; they do not configure the trial.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from trainables.moved_keys import renamed

ParamValue = float | int | str | bool


class ConfigError(ValueError):
    """A configuration value that is unknown, of the wrong type or out of range."""


def _require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {allowed}")


CLASS_SUBSETS = ("all", "head", "tail")


def check_class_subset(key: str, value: str) -> None:
    """``all``, ``head``, ``tail`` or an explicit comma list of class indices such as ``0,3,7``."""
    if value in CLASS_SUBSETS:
        return
    parts = [p.strip() for p in value.split(",")]
    _require(
        bool(parts) and all(p.isdigit() for p in parts),
        key, value, "expected all, head, tail or a comma list of class indices like 0,3,7",
    )


CLASS_POOLS = ("smallest", "all")
VALIDATIONS = ("holdout", "unseen_fonts")


@dataclass(frozen=True)
class DataConfig:
    name: str = "glyphs"  # dataset registry key (see `trainables.data.DATASETS`)
    num_classes: int = 0  # C classes drawn by `subset_seed` from the dataset; 0 = all of them
    root: str = ""  # directory of on-disk datasets (CIFAR, MNIST, CUB, ...); unused by built-ins
    imbalance_ratio: float = 1.0  # rho of a long-tailed training set, n_max / n_min (1 = balanced)
    max_per_class: int = 0  # n_max training images per class before the long tail; 0 = all
    head_threshold: int = 100  # head classes have >= this many training images (seed 001)
    val_fraction: float = 0.1  # validation share: held out of the training pool; with a long tail, up to val_fraction * n_max per class of the images it left unused
    augment: bool = True  # random crop with padding + flip, applied on the device
    subset_seed: int = 0  # seed of the class subset and of the long-tail image choice
    image_size: int = 0  # side in pixels images are resized to; 0 = dataset default (native, glyphs 32, image folders 64)
    class_pool: str = "smallest"  # glyphs: draw classes from the smallest tier prefix that holds them, or from "all" tiers (nested subsets at every C)
    validation: str = "holdout"  # "holdout": val_fraction of the training pool; "unseen_fonts" (glyphs): fonts training never saw, apart from the test fonts
    val_per_class: int = 0  # images per class of an "unseen_fonts" validation split; 0 = the dataset's default
    important_class: int = -1  # the class whose recall is reported apart (val/test_important_class_recall) whatever the loss; CAMRI's margin class; -1 = none
    val_classes: int = 0  # retrieval datasets: classes of the training half held out as validation classes, never trained on (val_recall_at_1); 0 = none

    def __post_init__(self) -> None:
        _require(self.num_classes >= 0, "data.num_classes", self.num_classes, "expected 0 (all) or a positive class count")
        _require(self.num_classes != 1, "data.num_classes", self.num_classes, "a classifier needs at least 2 classes")
        _require(self.imbalance_ratio >= 1.0, "data.imbalance_ratio", self.imbalance_ratio, "expected >= 1 (1 = balanced)")
        _require(self.max_per_class >= 0, "data.max_per_class", self.max_per_class, "expected >= 0 (0 = all)")
        _require(self.head_threshold >= 1, "data.head_threshold", self.head_threshold, "expected >= 1")
        _require(0.0 < self.val_fraction < 0.9, "data.val_fraction", self.val_fraction, "expected 0 < val_fraction < 0.9")
        _require(self.image_size == 0 or self.image_size >= 8, "data.image_size", self.image_size, "expected 0 (dataset default) or >= 8 pixels")
        _require(self.class_pool in CLASS_POOLS, "data.class_pool", self.class_pool, f"choose one of: {', '.join(CLASS_POOLS)}")
        _require(self.validation in VALIDATIONS, "data.validation", self.validation, f"choose one of: {', '.join(VALIDATIONS)}")
        _require(self.val_per_class >= 0, "data.val_per_class", self.val_per_class, "expected >= 0 (0 = the dataset's default)")


@dataclass(frozen=True)
class ModelConfig:
    name: str = "small_cnn"  # model registry key (see `trainables.models.MODELS`)
    embedding_dim: int = 64  # width of the feature that losses see
    dropout: float = 0.0  # dropout before the embedding layer (seed 000 uses 0.3)
    pretrained_path: str = ""  # local weights file for torchvision backbones; never downloaded

    def __post_init__(self) -> None:
        _require(self.embedding_dim >= 2, "model.embedding_dim", self.embedding_dim, "expected >= 2")
        _require(0.0 <= self.dropout < 1.0, "model.dropout", self.dropout, "expected 0 <= dropout < 1")


@dataclass(frozen=True)
class TermConfig:
    """An extra loss term: weight * loss(name), restricted to a class subset.

    ``optimizer`` names the optimizer of the term's own updates: for a term with learnable
    parameters (PC's class centres) an optimizer of that kind steps them, apart from the backbone's,
    after each primary update (seed 001 trains PC with plain SGD, CE with momentum SGD); for a term
    trained by a second update (Complement Entropy) it is the kind of that second optimizer. Empty:
    the parameters go with the trial's optimizer, and a second optimizer is of ``optim.name``.
    """

    weight: float = 1.0  # multiplies the term in the total loss
    classes: str = "all"  # all | head | tail | comma list: only samples with these labels contribute
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the loss's own parameters
    optimizer: str = ""  # "" (with the trial's optimizer) or one of OPTIMIZERS for the term's own updates


@dataclass(frozen=True)
class LossConfig:
    output: str = "ce"  # output-space loss that owns the classifier weights (registry key)
    output_classes: str = "all"  # class subset of the output term
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the output loss's own: margin_rad, ...
    terms: Mapping[str, TermConfig] = field(default_factory=dict)  # complement, center, pc, ...

    def __post_init__(self) -> None:
        check_class_subset("loss.output_classes", self.output_classes)
        for name, term in self.terms.items():
            check_class_subset(f"loss.terms.{name}.classes", term.classes)
            _require(term.weight >= 0, f"loss.terms.{name}.weight", term.weight, "expected >= 0")
            _require(term.optimizer in ("", *OPTIMIZERS), f"loss.terms.{name}.optimizer", term.optimizer,
                     f"choose one of: {', '.join(OPTIMIZERS)} (or leave it out: the trial's optimizer)")


SCALE_SCHEDULES = ("constant", "linear", "step", "quadratic", "cosine", "adacos_fixed", "adacos_dynamic")


@dataclass(frozen=True)
class ScaleConfig:
    """Softmax scale s over training progress (ignored by losses without a scale).

    With ``train.additional_epochs > 0`` the main phase runs at constant ``start`` and the
    schedule runs during the additional phase (the thesis's proposal); otherwise the
    schedule spans the main phase.
    """

    schedule: str = "constant"  # one of SCALE_SCHEDULES
    start: float = 16.0  # s at progress 0
    end: float = 16.0  # s at progress 1 (linear, step, quadratic, cosine)
    switch_at: float = 0.5  # progress fraction at which `step` switches from start to end

    def __post_init__(self) -> None:
        _require(self.schedule in SCALE_SCHEDULES, "scale.schedule", self.schedule, f"choose one of: {', '.join(SCALE_SCHEDULES)}")
        _require(self.start > 0, "scale.start", self.start, "the softmax scale must be > 0")
        _require(self.end > 0, "scale.end", self.end, "the softmax scale must be > 0")
        _require(0.0 <= self.switch_at <= 1.0, "scale.switch_at", self.switch_at, "expected a progress fraction in [0, 1]")


OPTIMIZERS = ("sgd_momentum", "sgd", "adam")


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd_momentum"  # one of OPTIMIZERS
    lr: float = 0.05  # learning rate of the backbone
    momentum: float = 0.9  # for sgd_momentum
    weight_decay: float = 5e-4  # L2 on the backbone
    class_weight_lr_multiplier: float = 1.0  # lr of class weights/proxies = lr * this (Proxy-Anchor uses 100)
    lr_milestones: tuple[int, ...] = ()  # epochs (counted over all phases) at which lr *= lr_gamma
    lr_gamma: float = 0.1

    def __post_init__(self) -> None:
        _require(self.name in OPTIMIZERS, "optim.name", self.name, f"choose one of: {', '.join(OPTIMIZERS)}")
        _require(self.lr > 0, "optim.lr", self.lr, "expected > 0")
        _require(0 <= self.momentum < 1, "optim.momentum", self.momentum, "expected 0 <= momentum < 1")
        _require(self.weight_decay >= 0, "optim.weight_decay", self.weight_decay, "expected >= 0")
        _require(self.class_weight_lr_multiplier > 0, "optim.class_weight_lr_multiplier", self.class_weight_lr_multiplier, "expected > 0")
        _require(0 < self.lr_gamma <= 1, "optim.lr_gamma", self.lr_gamma, "expected 0 < lr_gamma <= 1")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # epochs of the main phase
    pretrain_epochs: int = 0  # epochs of CE pre-training before the main phase (seeds 000, 001)
    additional_epochs: int = 0  # epochs of "additional training" in which the scale schedule runs (seed 002)
    batch_size: int = 128
    seed: int = 0  # seeds torch, the data order and augmentation
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda
    threads: int = 0  # torch CPU threads for this trial; 0 = leave torch's default
    compile: bool = False  # torch.compile the model for training: pays back on GPUs; on CPU it costs ~30 s and gains little
    validate_every: int = 1  # epochs between validation passes; the last epoch always validates; 0 = only the last
    silhouette_samples: int = 10_000  # test embeddings the silhouette score uses (all up to this many, else a seeded sample); 0 = skip it

    def __post_init__(self) -> None:
        _require(self.epochs >= 1, "train.epochs", self.epochs, "expected >= 1")
        _require(self.pretrain_epochs >= 0, "train.pretrain_epochs", self.pretrain_epochs, "expected >= 0")
        _require(self.additional_epochs >= 0, "train.additional_epochs", self.additional_epochs, "expected >= 0")
        _require(self.batch_size >= 2, "train.batch_size", self.batch_size, "expected >= 2")
        _require(self.device in ("auto", "cpu", "cuda"), "train.device", self.device, "choose one of: auto, cpu, cuda")
        _require(self.threads >= 0, "train.threads", self.threads, "expected >= 0")
        _require(self.validate_every >= 0, "train.validate_every", self.validate_every, "expected >= 0 epochs (0 = only after the last epoch)")
        _require(self.silhouette_samples == 0 or self.silhouette_samples >= 2, "train.silhouette_samples",
                 self.silhouette_samples, "expected 0 (skip the score) or >= 2 embeddings")

    @property
    def total_epochs(self) -> int:
        return self.pretrain_epochs + self.epochs + self.additional_epochs


@dataclass(frozen=True)
class TrialConfig:
    """Everything one trial needs; replays without Optuna via ``from_flat(to_flat())``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    scale: ScaleConfig = field(default_factory=ScaleConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @classmethod
    def from_flat(cls, flat: Mapping[str, Any]) -> "TrialConfig":
        flat = renamed(flat)  # keys that moved (trainables.moved_keys)
        sections: dict[str, dict[str, Any]] = {f.name: {} for f in dataclasses.fields(cls)}
        loss_params: dict[str, ParamValue] = {}
        terms: dict[str, dict[str, Any]] = {}
        for key, value in flat.items():
            section, _, rest = key.partition(".")
            if key.startswith(SEARCH_PREFIX):
                continue
            if section not in sections or not rest:
                raise ConfigError(f"unknown config key {key!r}; sections are: {', '.join(sections)}")
            if section == "loss" and rest.startswith("params."):
                loss_params[rest[len("params."):]] = _scalar(key, value)
            elif section == "loss" and rest.startswith("terms."):
                _, name, *tail = rest.split(".")
                _add_term_key(terms.setdefault(name, {"params": {}}), key, tail, value)
            else:
                sections[section][rest] = value
        built = {}
        for f in dataclasses.fields(cls):
            sub_cls = _field_type(cls, f.name)
            values = sections[f.name]
            if f.name == "loss":
                values = dict(values, params=loss_params, terms={n: TermConfig(**t) for n, t in terms.items()})
            built[f.name] = _build(sub_cls, f.name, values)
        return cls(**built)

    def to_flat(self) -> dict[str, ParamValue]:
        flat: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            sub = getattr(self, f.name)
            for g in dataclasses.fields(sub):
                value = getattr(sub, g.name)
                if f.name == "loss" and g.name == "params":
                    flat.update({f"loss.params.{k}": v for k, v in sorted(value.items())})
                elif f.name == "loss" and g.name == "terms":
                    for name, term in sorted(value.items()):
                        flat[f"loss.terms.{name}.weight"] = term.weight
                        flat[f"loss.terms.{name}.classes"] = term.classes
                        if term.optimizer:
                            flat[f"loss.terms.{name}.optimizer"] = term.optimizer
                        flat.update({f"loss.terms.{name}.params.{k}": v for k, v in sorted(term.params.items())})
                else:
                    flat[f"{f.name}.{g.name}"] = ",".join(map(str, value)) if isinstance(value, tuple) else value
        return flat

    def replace(self, **flat_updates: Any) -> "TrialConfig":
        """A copy with some flat keys changed (keys use ``__`` for dots: ``scale__start=10``)."""
        flat = self.to_flat()
        flat.update({k.replace("__", "."): v for k, v in flat_updates.items()})
        return TrialConfig.from_flat(flat)


SEARCH_PREFIX = "search."


def search_labels(flat: Mapping[str, Any]) -> dict[str, ParamValue]:
    """The ``search.`` labels of a sampled point (``search.feature=pc``), kept beside the
    ``TrialConfig`` for the records: they name the cell a trial belongs to, never configure it."""
    return {k: _scalar(k, v) for k, v in flat.items() if k.startswith(SEARCH_PREFIX)}


def _add_term_key(term: dict[str, Any], key: str, tail: list[str], value: Any) -> None:
    if tail == ["weight"]:
        term["weight"] = _coerce(float, key, value)
    elif tail == ["classes"]:
        term["classes"] = _coerce(str, key, value)
    elif tail == ["optimizer"]:
        term["optimizer"] = _coerce(str, key, value)
    elif len(tail) == 2 and tail[0] == "params":
        term["params"][tail[1]] = _scalar(key, value)
    else:
        raise ConfigError(f"unknown config key {key!r}; a term has weight, classes, optimizer and params.<name>")


def _scalar(key: str, value: Any) -> ParamValue:
    if isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(f"{key}={value!r} is invalid: expected a number, a string or a boolean")


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _build(sub_cls: type, section: str, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(sub_cls)
    known = {f.name for f in dataclasses.fields(sub_cls)}
    kwargs = {}
    for name, value in values.items():
        key = f"{section}.{name}"
        if name not in known:
            raise ConfigError(f"unknown config key {key!r}; {section} has: {', '.join(sorted(known))}")
        kwargs[name] = _coerce(hints[name], key, value)
    return sub_cls(**kwargs)


def _coerce(hint: Any, key: str, value: Any) -> Any:
    """Convert a flat value (from YAML, Optuna or MLflow strings) to the field's type."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r} is invalid: expected a list")
        return tuple(_coerce(typing.get_args(hint)[0], key, v) for v in value)
    if origin in (typing.Union, types.UnionType) or typing.get_origin(hint) is Mapping or hint is Any:
        return value
    try:
        if hint is bool:
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if isinstance(value, (bool, int)) and value in (0, 1, True, False):
                return bool(value)
            raise ValueError
        if hint is int:
            if isinstance(value, bool):
                raise ValueError
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError
            return int(as_float)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r} is invalid: expected {hint.__name__}") from None
    return value
