"""MNIST and Fashion-MNIST from torchvision's on-disk layout (IDX files, optionally gzipped).

Layout: ``<data.root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` and the
same under ``<data.root>/FashionMNIST/raw/``. Nothing is downloaded.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainables.config import DataConfig
from trainables.data.assemble import classification_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.errors import DatasetError
from trainables.data.roots import data_root

__all__ = ["IdxSource", "read_idx"]

IDX_DTYPES = {0x08: np.uint8}  # IDX type code -> dtype; MNIST files are all unsigned bytes
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@dataclass(frozen=True)
class IdxSource:
    """Where a torchvision-style IDX dataset lives and what its classes are called."""

    folder: str  # directory under data.root, e.g. "MNIST"
    class_names: tuple[str, ...]
    flip_ok: bool  # clothing survives a horizontal flip, digits do not

    def layout(self) -> str:
        return f"<root>/{self.folder}/raw/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte[.gz]"


def read_idx(path: Path, layout: str) -> np.ndarray:
    """Parse one IDX file (``path`` or ``path.gz``): magic 0x0000TTDD, DD big-endian sizes, data."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            break
    else:
        raise DatasetError(f"{path} is missing: expected {layout}")
    try:
        opener = gzip.open if candidate.suffix == ".gz" else open
        with opener(candidate, "rb") as f:
            raw = f.read()
        type_code, ndim = raw[2], raw[3]
        dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
        data = np.frombuffer(raw, dtype=IDX_DTYPES[type_code], offset=4 + 4 * ndim)
        return data.reshape(dims).copy()
    except (OSError, KeyError, IndexError, ValueError, EOFError) as err:
        raise DatasetError(
            f"{candidate} is not a valid IDX file ({type(err).__name__}): expected {layout}"
        ) from None


def load_idx_dataset(cfg: DataConfig, source: IdxSource, name: str) -> DatasetBundle:
    raw = data_root(cfg, source.layout()) / source.folder / "raw"
    arrays = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = read_idx(raw / f"{prefix}-images-idx3-ubyte", source.layout())
        y = read_idx(raw / f"{prefix}-labels-idx1-ubyte", source.layout())
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DatasetError(
                f"{raw}: {prefix} images {x.shape} and labels {y.shape} do not match: expected {source.layout()}"
            )
        arrays[split] = torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y.astype(np.int64))
    (train_x, train_y), (test_x, test_y) = arrays["train"], arrays["test"]
    return classification_bundle(
        train_x, train_y, test_x, test_y, source.class_names, cfg, name=name, flip_ok=source.flip_ok
    )


@DATASETS.register("mnist")
def mnist(cfg: DataConfig) -> DatasetBundle:
    """MNIST: 60,000 + 10,000 28x28 handwritten digits, 10 classes."""
    return load_idx_dataset(
        cfg, IdxSource("MNIST", tuple(str(i) for i in range(10)), flip_ok=False), "mnist"
    )


@DATASETS.register("fashion_mnist")
def fashion_mnist(cfg: DataConfig) -> DatasetBundle:
    """Fashion-MNIST: 60,000 + 10,000 28x28 clothing images, 10 classes."""
    return load_idx_dataset(
        cfg, IdxSource("FashionMNIST", FASHION_NAMES, flip_ok=True), "fashion_mnist"
    )
