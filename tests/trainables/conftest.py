"""Fixtures that write miniature copies of each on-disk dataset format into a temporary folder.

Each fixture returns the ``data.root`` to load from; images are tiny and few per class, in the
real layout (CIFAR pickles, MNIST IDX, CUB lists, Cars annotations, an ImageFolder tree).
The session gets its own dataset cache through ``$STUDY_CACHE_DIR`` (never ``~/.cache``).
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory):
    """One dataset cache for the session: built glyph inventories are reused, ~/.cache untouched.

    Cache keys include resolved file paths, so datasets of different tests never collide.
    """
    cache = tmp_path_factory.mktemp("dataset-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDY_CACHE_DIR", str(cache))
        yield cache


def _images(rng: np.random.Generator, n: int, channels: int, size: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, channels, size, size), dtype=np.uint8)


def write_cifar(
    root: Path,
    num_classes: int,
    train_per_class: int,
    test_per_class: int,
    bytes_keys: bool = False,
) -> Path:
    """CIFAR-10 (5 data batches) or CIFAR-100 (train/test) python pickles under ``root``."""
    rng = np.random.default_rng(0)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    ten = num_classes == 10
    folder = root / ("cifar-10-batches-py" if ten else "cifar-100-python")
    folder.mkdir(parents=True)
    label_key = "labels" if ten else "fine_labels"

    def dump(name: str, per_class: int) -> None:
        y = np.repeat(np.arange(num_classes), per_class)
        rng.shuffle(y)
        rows = _images(rng, len(y), 3, 32).reshape(len(y), -1)
        with open(folder / name, "wb") as f:
            pickle.dump(
                {key("data"): rows, key(label_key): y.tolist(), key("batch_label"): name}, f
            )

    if ten:
        for i in range(1, 6):
            dump(f"data_batch_{i}", train_per_class)
        dump("test_batch", test_per_class)
        meta = {key("label_names"): [f"class{i}" for i in range(10)]}
        (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    else:
        dump("train", train_per_class)
        dump("test", test_per_class)
        (folder / "meta").write_bytes(
            pickle.dumps({key("fine_label_names"): [f"fine{i}" for i in range(100)]})
        )
    return root


def _idx(path: Path, array: np.ndarray, gz: bool) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def write_mnist(root: Path, folder: str, per_class: int = 4, gz: bool = False) -> Path:
    """torchvision's ``<root>/<folder>/raw/*-ubyte`` IDX files with 10 classes."""
    rng = np.random.default_rng(1)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", per_class), ("t10k", max(1, per_class // 2))):
        y = np.repeat(np.arange(10), n).astype(np.uint8)
        _idx(raw / f"{prefix}-images-idx3-ubyte", _images(rng, len(y), 1, 28)[:, 0], gz)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", y, gz)
    return root


def _jpeg(path: Path, rng: np.random.Generator, size: tuple[int, int] = (40, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
        path, quality=90
    )


def write_cub(root: Path, num_classes: int = 6, per_class: int = 4) -> Path:
    """``CUB_200_2011/{images.txt, image_class_labels.txt, classes.txt, images/}``."""
    rng = np.random.default_rng(2)
    folder = root / "CUB_200_2011"
    images, labels, classes = [], [], []
    for c in range(1, num_classes + 1):
        name = f"{c:03d}.Bird_{c}"
        classes.append(f"{c} {name}")
        for k in range(per_class):
            i = len(images) + 1
            rel = f"{name}/Bird_{c}_{k}.jpg"
            _jpeg(folder / "images" / rel, rng)
            images.append(f"{i} {rel}")
            labels.append(f"{i} {c}")
    (folder / "images.txt").write_text("\n".join(images) + "\n")
    (folder / "image_class_labels.txt").write_text("\n".join(labels) + "\n")
    (folder / "classes.txt").write_text("\n".join(classes) + "\n")
    return root


def write_cars(root: Path, num_classes: int = 6, per_class: int = 4) -> Path:
    """``cars196/{cars_annos.mat, car_ims/}`` in the layout of Krause et al.'s all-images file."""
    from scipy.io import savemat

    rng = np.random.default_rng(3)
    folder = root / "cars196"
    n = num_classes * per_class
    fields = ["relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test"]
    ann = np.empty((1, n), dtype=[(f, "O") for f in fields])
    for i in range(n):
        rel = f"car_ims/{i + 1:06d}.jpg"
        _jpeg(folder / rel, rng, (48, 32))
        c = i // per_class + 1
        ann[0, i] = (
            np.array([rel]),
            np.array([[1]]),
            np.array([[1]]),
            np.array([[40]]),
            np.array([[30]]),
            np.array([[c]], dtype=np.uint8),
            np.array([[i % 2]], dtype=np.uint8),
        )
    names = np.empty((1, num_classes), dtype=object)
    for c in range(num_classes):
        names[0, c] = np.array([f"Car Model {c + 1}"])
    savemat(folder / "cars_annos.mat", {"annotations": ann, "class_names": names})
    return root


def write_image_folder(
    root: Path, classes: tuple[str, ...] = ("cat", "dog", "emu"), per_class: int = 5
) -> Path:
    """``<root>/<class>/<image>.png`` (mixed sizes and modes)."""
    rng = np.random.default_rng(4)
    for c in classes:
        for k in range(per_class):
            (root / c).mkdir(parents=True, exist_ok=True)
            arr = rng.integers(0, 256, (20 + k, 24, 3), dtype=np.uint8)
            im = Image.fromarray(arr)
            (im.convert("L") if k % 2 else im).save(root / c / f"{k}.png")
    return root


@pytest.fixture
def cifar10_root(tmp_path: Path) -> Path:
    return write_cifar(tmp_path / "data", 10, train_per_class=3, test_per_class=2)


@pytest.fixture
def cifar100_root(tmp_path: Path) -> Path:
    return write_cifar(
        tmp_path / "data", 100, train_per_class=12, test_per_class=2, bytes_keys=True
    )


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    root = write_mnist(tmp_path / "data", "MNIST", gz=True)
    return write_mnist(root, "FashionMNIST", gz=False)


@pytest.fixture
def cub_root(tmp_path: Path) -> Path:
    return write_cub(tmp_path / "data")


@pytest.fixture
def cars_root(tmp_path: Path) -> Path:
    return write_cars(tmp_path / "data")


@pytest.fixture
def folder_root(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "folder")
