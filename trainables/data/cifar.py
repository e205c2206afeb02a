"""CIFAR-10/100 and their long-tailed versions, read from the official python pickles.

Layout under ``data.root``: ``cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``
and ``cifar-100-python/{train, test, meta}`` (the ``meta`` files are optional: without them
classes are named by index). Each pickle is a dict with ``data`` (N x 3072 uint8, channel then
row then column) and ``labels`` / ``fine_labels``; str or bytes keys are both accepted. The
pickles are read directly: torchvision refuses archives whose MD5 it does not know.

CIFAR-10-LT / CIFAR-100-LT: class i keeps floor(n_max * rho^(-i/(C-1))) training images chosen
with ``data.subset_seed`` (n_max = ``data.max_per_class`` or 5,000 / 500); the test set stays
balanced. rho is ``data.imbalance_ratio``, and the usual 100 when that is left at 1.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainables.config import DataConfig
from trainables.data.assemble import classification_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.errors import DatasetError
from trainables.data.roots import data_root

__all__ = ["CIFAR_SOURCES", "CifarSource", "read_cifar_pickle"]

LT_DEFAULT_IMBALANCE = 100.0  # rho of CIFAR-10-LT / CIFAR-100-LT when data.imbalance_ratio is 1


@dataclass(frozen=True)
class CifarSource:
    """One CIFAR variant: folder, batch files, label key and class-name source."""

    folder: str
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    label_key: str
    meta_file: str
    names_key: str
    num_classes: int

    def layout(self) -> str:
        files = ",".join(self.train_files + self.test_files)
        return f"<root>/{self.folder}/{{{files}}} (official CIFAR python pickles)"


CIFAR_SOURCES = {
    "cifar10": CifarSource(
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        ("test_batch",),
        "labels",
        "batches.meta",
        "label_names",
        10,
    ),
    "cifar100": CifarSource(
        "cifar-100-python", ("train",), ("test",), "fine_labels", "meta", "fine_label_names", 100
    ),
}


def _str_keys(d: dict) -> dict:
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}


def read_cifar_pickle(path: Path, layout: str) -> dict:
    """One pickled CIFAR dict with str keys; a one-line DatasetError if missing or unreadable."""
    if not path.is_file():
        raise DatasetError(f"{path} is missing: expected {layout}")
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f, encoding="latin1")
        if not isinstance(obj, dict):
            raise TypeError("not a dict")
        return _str_keys(obj)
    except Exception as err:  # pickle raises many types on corrupt input
        raise DatasetError(
            f"{path} is not a CIFAR pickle ({type(err).__name__}): expected {layout}"
        ) from None


def _read_batches(
    folder: Path, files: tuple[str, ...], source: CifarSource
) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for name in files:
        d = read_cifar_pickle(folder / name, source.layout())
        try:
            x = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            y = np.asarray(d[source.label_key], dtype=np.int64)
            if len(x) != len(y) or (len(y) and (y.min() < 0 or y.max() >= source.num_classes)):
                raise ValueError("labels do not match images")
        except (KeyError, ValueError) as err:
            raise DatasetError(
                f"{folder / name} has no valid data/{source.label_key} ({err}): expected {source.layout()}"
            ) from None
        xs.append(torch.from_numpy(x))
        ys.append(torch.from_numpy(y))
    return torch.cat(xs), torch.cat(ys)


def _class_names(folder: Path, source: CifarSource) -> tuple[str, ...]:
    meta = folder / source.meta_file
    if meta.is_file():
        names = read_cifar_pickle(meta, source.layout()).get(source.names_key)
        if names is not None and len(names) == source.num_classes:
            return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return tuple(str(i) for i in range(source.num_classes))


def load_cifar(cfg: DataConfig, name: str, source: CifarSource, long_tailed: bool) -> DatasetBundle:
    folder = data_root(cfg, source.layout()) / source.folder
    if not folder.is_dir():
        raise DatasetError(f"{folder} is missing: expected {source.layout()}")
    train_x, train_y = _read_batches(folder, source.train_files, source)
    test_x, test_y = _read_batches(folder, source.test_files, source)
    rho = (
        (cfg.imbalance_ratio if cfg.imbalance_ratio != 1.0 else LT_DEFAULT_IMBALANCE)
        if long_tailed
        else None
    )
    return classification_bundle(
        train_x,
        train_y,
        test_x,
        test_y,
        _class_names(folder, source),
        cfg,
        name=name,
        flip_ok=True,
        imbalance_ratio=rho,
    )


@DATASETS.register("cifar10")
def cifar10(cfg: DataConfig) -> DatasetBundle:
    """CIFAR-10: 50,000 + 10,000 32x32 colour images, 10 classes."""
    return load_cifar(cfg, "cifar10", CIFAR_SOURCES["cifar10"], long_tailed=False)


@DATASETS.register("cifar100")
def cifar100(cfg: DataConfig) -> DatasetBundle:
    """CIFAR-100: 50,000 + 10,000 32x32 colour images, 100 fine classes."""
    return load_cifar(cfg, "cifar100", CIFAR_SOURCES["cifar100"], long_tailed=False)


@DATASETS.register("cifar10_lt")
def cifar10_lt(cfg: DataConfig) -> DatasetBundle:
    """CIFAR-10-LT (Cui et al. 2019): exponential long tail, rho = 100 unless configured."""
    return load_cifar(cfg, "cifar10_lt", CIFAR_SOURCES["cifar10"], long_tailed=True)


@DATASETS.register("cifar100_lt")
def cifar100_lt(cfg: DataConfig) -> DatasetBundle:
    """CIFAR-100-LT (Cui et al. 2019): exponential long tail, rho = 100 unless configured."""
    return load_cifar(cfg, "cifar100_lt", CIFAR_SOURCES["cifar100"], long_tailed=True)
