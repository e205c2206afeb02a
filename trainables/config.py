"""TrialConfig: one frozen, nested description of a trial, declared field by field (the default and
what it means). What each field allows is in ``trainables.config_checks``; how a flat value given as
text becomes the field's type is in ``trainables.flat``.

``from_flat``/``to_flat`` are the only places where string keys are read or written.
A flat key is the dotted path of a field (``loss.output``, ``scale.start``); the mappings
``loss.params`` and ``loss.terms`` extend it (``loss.params.margin_rad``,
``loss.terms.pc.weight``). Unknown keys and out-of-range values raise ``ConfigError``
naming the key, the value and what is allowed. Keys under ``search.`` label a sampled choice
(``search.feature=pc``) for the sampler and the records; they do not configure the trial.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainables.config_checks import (  # noqa: F401 - the choices, importable from here too
    CLASS_POOLS,
    CLASS_SUBSETS,
    OPTIMIZERS,
    SCALE_SCHEDULES,
    VALIDATIONS,
    check,
    check_loss,
)
from trainables.flat import ConfigError, Scalar, as_text, scalar, typed
from trainables.moved_keys import renamed

ParamValue = Scalar


@dataclass(frozen=True)
class DataConfig:
    name: str = "glyphs"  # dataset registry key (see `trainables.data.DATASETS`)
    num_classes: int = 0  # C classes drawn by `subset_seed` from the dataset; 0 = all of them
    root: str = ""  # directory of on-disk datasets (CIFAR, MNIST, CUB, ...); unused by built-ins
    imbalance_ratio: float = 1.0  # rho of a long-tailed training set, n_max / n_min (1 = balanced)
    max_per_class: int = 0  # n_max training images per class before the long tail; 0 = all
    head_threshold: int = 100  # head classes have >= this many training images (seed 001)
    # validation share: held out of the training pool; with a long tail, up to val_fraction * n_max
    # per class of the images it left unused
    val_fraction: float = 0.1
    augment: bool = True  # random crop with padding + flip, applied on the device
    subset_seed: int = 0  # seed of the class subset and of the long-tail image choice
    # side in pixels images are resized to; 0 = the dataset's default (native, glyphs 32, image
    # folders 64)
    image_size: int = 0
    # glyphs: draw classes from the smallest tier prefix that holds them, or from "all" tiers
    # (nested subsets at every C)
    class_pool: str = "smallest"
    # "holdout": val_fraction of the training pool; "unseen_fonts" (glyphs): fonts training never
    # saw, apart from the test fonts
    validation: str = "holdout"
    # images per class of an "unseen_fonts" validation split; 0 = the dataset's default
    val_per_class: int = 0
    # test-font images per class of the built-in glyphs; 0 = the dataset's default (50)
    test_per_class: int = 0
    # the class whose recall is reported apart (val/test_important_class_recall) whatever the loss;
    # CAMRI's margin class; -1 = none
    important_class: int = -1
    # retrieval datasets: classes of the training half held out as validation classes, never trained
    # on (val_recall_at_1); 0 = none
    val_classes: int = 0

    def __post_init__(self) -> None:
        check("data", self)


@dataclass(frozen=True)
class ModelConfig:
    name: str = "small_cnn"  # model registry key (see `trainables.models.MODELS`)
    embedding_dim: int = 64  # width of the feature that losses see
    dropout: float = 0.0  # dropout before the embedding layer (seed 000 uses 0.3)
    pretrained_path: str = ""  # local weights file for torchvision backbones; never downloaded

    def __post_init__(self) -> None:
        check("model", self)


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
    # all | head | tail | comma list: only samples with these labels contribute
    classes: str = "all"
    params: Mapping[str, ParamValue] = field(default_factory=dict)  # the loss's own parameters
    # "" (with the trial's optimizer) or one of OPTIMIZERS for the term's own updates
    optimizer: str = ""


@dataclass(frozen=True)
class LossConfig:
    output: str = "ce"  # output-space loss that owns the classifier weights (registry key)
    output_classes: str = "all"  # class subset of the output term
    # the output loss's own: margin_rad, ...
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    terms: Mapping[str, TermConfig] = field(default_factory=dict)  # complement, center, pc, ...

    def __post_init__(self) -> None:
        check_loss(self)


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
        check("scale", self)


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd_momentum"  # one of OPTIMIZERS
    lr: float = 0.05  # learning rate of the backbone
    momentum: float = 0.9  # for sgd_momentum
    weight_decay: float = 5e-4  # L2 on the backbone, loss-internal parameters and linear heads
    # lr of class weights/proxies/centres (not decayed) = lr * this (Proxy-Anchor uses 100)
    class_weight_lr_multiplier: float = 1.0
    lr_milestones: tuple[int, ...] = ()  # epochs (counted over all phases) at which lr *= lr_gamma
    lr_gamma: float = 0.1

    def __post_init__(self) -> None:
        check("optim", self)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10  # epochs of the main phase
    pretrain_epochs: int = 0  # epochs of CE pre-training before the main phase (seeds 000, 001)
    # epochs of "additional training" in which the scale schedule runs (seed 002)
    additional_epochs: int = 0
    batch_size: int = 128
    seed: int = 0  # seeds torch, the data order and augmentation
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda
    threads: int = 0  # torch CPU threads for this trial; 0 = leave torch's default
    # torch.compile the model for training: pays back on GPUs; on CPU it costs ~30 s and gains
    # little
    compile: bool = False
    # epochs between validation passes; the last epoch always validates; 0 = only the last
    validate_every: int = 1
    # test embeddings the silhouette score uses (all up to this many, else a seeded sample); 0 =
    # skip it
    silhouette_samples: int = 10_000
    # test images in the finished trial's Grad-CAM grid, evenly spaced through the test set; 0 =
    # no grid (a fresh worker then never imports grad-cam, which brings torchvision: ~2.7 s)
    gradcam_images: int = 16

    def __post_init__(self) -> None:
        check("train", self)

    @property
    def total_epochs(self) -> int:
        return self.pretrain_epochs + self.epochs + self.additional_epochs


# keys that change what a finished trial reports, never what it learns: trials that differ only
# in them belong to one response curve
REPORT_ONLY_KEYS = ("train.silhouette_samples", "train.gradcam_images")


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
    def from_flat(cls, flat: Mapping[str, Any]) -> TrialConfig:
        _check_keys(flat)
        flat = renamed(flat)  # keys that moved (trainables.moved_keys)
        sections: dict[str, dict[str, Any]] = {f.name: {} for f in dataclasses.fields(cls)}
        loss_params: dict[str, ParamValue] = {}
        terms: dict[str, dict[str, Any]] = {}
        for key, value in flat.items():
            section, _, rest = key.partition(".")
            if key.startswith(SEARCH_PREFIX):
                continue
            if section not in sections or not rest:
                raise ConfigError(
                    f"unknown config key {key!r}; sections are: {', '.join(sections)}"
                )
            if section == "loss" and rest.startswith("params."):
                loss_params[rest[len("params.") :]] = scalar(key, value)
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
                values = dict(
                    values, params=loss_params, terms={n: TermConfig(**t) for n, t in terms.items()}
                )
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
                        flat.update(
                            {
                                f"loss.terms.{name}.params.{k}": v
                                for k, v in sorted(term.params.items())
                            }
                        )
                else:
                    flat[f"{f.name}.{g.name}"] = (
                        as_text(value) if isinstance(value, tuple) else value
                    )
        return flat

    def replace(self, **flat_updates: Any) -> TrialConfig:
        """A copy with some flat keys changed (keys use ``__`` for dots: ``scale__start=10``)."""
        flat = self.to_flat()
        flat.update({k.replace("__", "."): v for k, v in flat_updates.items()})
        return TrialConfig.from_flat(flat)


SEARCH_PREFIX = "search."


# mappings given whole, and the flat keys that set them
NESTED_KEYS = {
    "loss.params": "loss.params.NAME (e.g. loss.params.margin_rad: 0.5)",
    "loss.terms": "loss.terms.NAME.weight, loss.terms.NAME.classes and loss.terms.NAME.params.KEY "
    "(e.g. loss.terms.pc.weight: 0.1)",
}


def _check_keys(flat: Mapping[Any, Any]) -> None:
    """Every key is a dotted text key (a YAML mapping may give a number), and the loss's mappings
    are set key by key, never whole (``loss.params: {...}``)."""
    for key in flat:
        if not isinstance(key, str):
            raise ConfigError(
                f"config key {key!r} is not a dotted name such as train.epochs or loss.output"
            )
        if key in NESTED_KEYS:
            raise ConfigError(
                f"{key}={flat[key]!r}: set it as flat keys, one per value: {NESTED_KEYS[key]}"
            )


def search_labels(flat: Mapping[str, Any]) -> dict[str, ParamValue]:
    """The ``search.`` labels of a sampled point (``search.feature=pc``), kept beside the
    ``TrialConfig`` for the records: they name the cell a trial belongs to, never configure it."""
    return {k: scalar(k, v) for k, v in flat.items() if k.startswith(SEARCH_PREFIX)}


def _add_term_key(term: dict[str, Any], key: str, tail: list[str], value: Any) -> None:
    if tail == ["weight"]:
        term["weight"] = typed(float, key, value)
    elif tail == ["classes"]:
        term["classes"] = typed(str, key, value)
    elif tail == ["optimizer"]:
        term["optimizer"] = typed(str, key, value)
    elif len(tail) == 2 and tail[0] == "params":
        term["params"][tail[1]] = scalar(key, value)
    else:
        raise ConfigError(
            f"unknown config key {key!r}; a term has weight, classes, optimizer and params.<name>"
        )


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _build(sub_cls: type, section: str, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(sub_cls)
    known = {f.name for f in dataclasses.fields(sub_cls)}
    kwargs = {}
    for name, value in values.items():
        key = f"{section}.{name}"
        if name not in known:
            raise ConfigError(
                f"unknown config key {key!r}; {section} has: {', '.join(sorted(known))}"
            )
        kwargs[name] = typed(hints[name], key, value)
    return sub_cls(**kwargs)
