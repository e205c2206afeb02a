"""Datasets from miniature on-disk copies: formats, errors, class subsets, long tails, splits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainables.config import DataConfig
from trainables.data import DATASETS, DatasetBundle, DatasetError, load_dataset, long_tail_counts
from trainables.data.longtail import long_tail_indices, long_tail_split
from trainables.data.subsets import choose_classes, select_classes, shot_split, stratified_holdout

CPU = torch.device("cpu")


def load(name: str, root: Path | str = "", **kw) -> DatasetBundle:
    return load_dataset(DataConfig(name=name, root=str(root), **kw), CPU)


def check_bundle(b: DatasetBundle, channels: int, size: int) -> None:
    for split in (b.train, b.val, b.test):
        assert split.x.dtype == torch.float32 and split.y.dtype == torch.int64
        assert tuple(split.x.shape[1:]) == (channels, size, size)
    assert b.in_channels == channels and b.image_size == size
    assert len(b.class_names) == b.num_classes
    assert int(b.train.y.max()) < b.num_classes and int(b.val.y.max()) < b.num_classes
    mean = b.train.x.mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-4)  # standardized on train


def test_registry_lists_every_dataset() -> None:
    expected = {
        "glyphs",
        "digits",
        "mnist",
        "fashion_mnist",
        "cifar10",
        "cifar100",
        "cifar10_lt",
        "cifar100_lt",
        "cub200",
        "cars196",
        "image_folder",
    }
    assert expected <= set(DATASETS.names())


def test_cifar10_pickles(cifar10_root: Path) -> None:
    b = load("cifar10", cifar10_root)
    check_bundle(b, 3, 32)
    assert b.num_classes == 10 and b.class_names[3] == "class3" and b.flip_ok
    assert len(b.train) + len(b.val) == 150 and len(b.test) == 20
    assert b.class_counts.tolist() == [15] * 10


def test_cifar_pixels_are_channel_row_column(cifar10_root: Path) -> None:
    import pickle

    d = pickle.loads((cifar10_root / "cifar-10-batches-py" / "test_batch").read_bytes())
    b = load("cifar10", cifar10_root, image_size=0)
    first = torch.tensor(d["data"][0].reshape(3, 32, 32), dtype=torch.float32)
    got = b.test.x[0]  # the test split keeps file order; standardization is affine per channel
    corr = torch.corrcoef(torch.stack([first[1].flatten(), got[1].flatten()]))[0, 1]
    assert corr > 0.999


def test_cifar100_lt_bytes_keys_and_long_tail(cifar100_root: Path) -> None:
    b = load("cifar100_lt", cifar100_root, imbalance_ratio=12.0)
    assert b.num_classes == 100 and b.class_names[0] == "fine0"
    assert b.class_counts.tolist() == long_tail_counts(100, 12, 12.0)
    assert torch.bincount(b.test.y, minlength=100).tolist() == [2] * 100  # test stays balanced


def test_cifar_lt_defaults_to_rho_100(cifar100_root: Path) -> None:
    b = load("cifar100_lt", cifar100_root)
    assert b.class_counts.tolist() == long_tail_counts(100, 12, 100.0)


def test_class_subset_and_long_tail_on_any_dataset(cifar100_root: Path) -> None:
    b = load(
        "cifar100",
        cifar100_root,
        num_classes=7,
        subset_seed=3,
        imbalance_ratio=4.0,
        max_per_class=8,
    )
    assert b.num_classes == 7 and len(b.class_names) == 7
    assert b.class_counts.tolist() == long_tail_counts(7, 8, 4.0)
    picked = choose_classes(100, 7, 3, "cifar100").tolist()
    assert b.class_names == tuple(f"fine{i}" for i in picked)
    assert set(b.test.y.tolist()) == set(range(7))


def test_mnist_idx_plain_and_gzipped(mnist_root: Path) -> None:
    m = load("mnist", mnist_root)
    f = load("fashion_mnist", mnist_root)
    check_bundle(m, 1, 28)
    check_bundle(f, 1, 28)
    assert not m.flip_ok and f.flip_ok and f.class_names[9] == "Ankle boot"
    assert len(m.test) == 20 and len(m.train) + len(m.val) == 40


def test_image_size_resizes(mnist_root: Path) -> None:
    check_bundle(load("mnist", mnist_root, image_size=16), 1, 16)


def test_cub_is_split_by_class_for_retrieval(cub_root: Path) -> None:
    b = load("cub200", cub_root, image_size=16)
    check_bundle(b, 3, 16)
    assert b.retrieval and b.num_classes == 3
    assert b.class_names == ("001.Bird_1", "002.Bird_2", "003.Bird_3")
    assert b.test_class_names == ("004.Bird_4", "005.Bird_5", "006.Bird_6")
    assert len(b.test) == 12 and len(b.train) + len(b.val) == 12


def test_cars_annotations(cars_root: Path) -> None:
    b = load("cars196", cars_root, image_size=16)
    check_bundle(b, 3, 16)
    assert b.retrieval and b.num_classes == 3 and b.test_class_names[0] == "Car Model 4"


def test_image_folder(folder_root: Path) -> None:
    b = load("image_folder", folder_root, image_size=12)
    check_bundle(b, 3, 12)
    assert b.class_names == ("cat", "dog", "emu") and not b.retrieval
    assert len(b.test) == 3  # 20% of 5 per class


def test_image_folder_with_train_test_folders(tmp_path: Path) -> None:
    from tests.trainables.conftest import write_image_folder

    write_image_folder(tmp_path / "f" / "train", per_class=4)
    write_image_folder(tmp_path / "f" / "test", per_class=2)
    b = load("image_folder", tmp_path / "f", image_size=8)
    assert len(b.test) == 6 and len(b.train) + len(b.val) == 12


@pytest.mark.parametrize(
    "name",
    ["cifar10", "cifar100_lt", "mnist", "fashion_mnist", "cub200", "cars196", "image_folder"],
)
def test_missing_dataset_is_one_line_naming_the_path(name: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as err:
        load(name, tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "expected" in msg and str(tmp_path) in msg


def test_empty_root_is_one_line() -> None:
    with pytest.raises(DatasetError, match="data.root is empty"):
        load("cifar10", "")


def test_corrupt_pickle_is_one_line(cifar10_root: Path) -> None:
    (cifar10_root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="data_batch_3 is not a CIFAR pickle") as err:
        load("cifar10", cifar10_root)
    assert "\n" not in str(err.value)


def test_corrupt_image_is_one_line(cub_root: Path) -> None:
    next((cub_root / "CUB_200_2011" / "images").rglob("*.jpg")).write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="not a readable image"):
        load("cub200", cub_root)


def test_too_many_classes_names_the_maximum(cifar10_root: Path) -> None:
    with pytest.raises(DatasetError, match="at most 10 classes"):
        load("cifar10", cifar10_root, num_classes=11)


def test_long_tail_counts_cifar100_rho_100() -> None:
    counts = long_tail_counts(100, 500, 100.0)
    assert sum(counts) == 10_847
    assert sum(c >= 100 for c in counts) == 35
    assert counts[0] == 500 and counts[-1] == 5
    assert long_tail_counts(10, 5000, 1.0) == [5000] * 10


def test_long_tail_indices_choose_by_seed() -> None:
    y = torch.arange(4).repeat_interleave(10)
    a = long_tail_indices(y, 4, 0, 10.0, seed=0)
    assert torch.bincount(y[a]).tolist() == long_tail_counts(4, 10, 10.0)
    assert torch.equal(a, long_tail_indices(y, 4, 0, 10.0, seed=0))
    assert not torch.equal(a, long_tail_indices(y, 4, 0, 10.0, seed=1))


def test_cifar100_lt_trains_on_all_10847_images_and_validates_on_unused_ones() -> None:
    y = torch.arange(100).repeat_interleave(500)
    train, val = long_tail_split(y, 100, 0, 100.0, seed=0, val_fraction=0.1)
    counts = long_tail_counts(100, 500, 100.0)
    assert len(train) == 10_847 and torch.bincount(y[train], minlength=100).tolist() == counts
    # the same images as the tail alone
    assert torch.equal(train, long_tail_indices(y, 100, 0, 100.0, seed=0))
    assert torch.bincount(y[val], minlength=100).tolist() == [min(50, 500 - n) for n in counts]
    assert len(val) == 4_918 and not set(train.tolist()) & set(val.tolist())


def test_a_long_tailed_dataset_keeps_its_images_and_validates_on_the_rest(
    cifar100_root: Path,
) -> None:
    b = load("cifar100_lt", cifar100_root)
    counts = long_tail_counts(100, 12, 100.0)
    assert (
        len(b.train) == sum(counts) and torch.bincount(b.train.y, minlength=100).tolist() == counts
    )
    assert b.class_counts.tolist() == counts  # head/tail are decided on the training set itself
    assert torch.bincount(b.val.y, minlength=100).tolist() == [min(1, 12 - n) for n in counts]
    train_images = {row.numpy().tobytes() for row in b.train.x.flatten(1)}
    assert not any(row.numpy().tobytes() in train_images for row in b.val.x.flatten(1))
    # no tail: the validation split is held out of the pool
    balanced = load("cifar100", cifar100_root)
    assert (
        len(balanced.train) + len(balanced.val) == 1200
        and balanced.class_counts.tolist() == [12] * 100
    )


def test_a_long_tail_that_leaves_nothing_to_validate_on_is_one_line(cifar100_root: Path) -> None:
    with pytest.raises(DatasetError, match="none is left to validate on"):
        load("cifar100", cifar100_root, num_classes=2, imbalance_ratio=1.5, max_per_class=40)


def test_subsets_and_holdout() -> None:
    assert choose_classes(10, 0, 5, "d").tolist() == list(range(10))
    picked = choose_classes(10, 4, 5, "d")
    assert len(set(picked.tolist())) == 4 and picked.tolist() == sorted(picked.tolist())
    x, y = torch.arange(20.0), torch.arange(10).repeat(2)
    sx, sy = select_classes(x, y, torch.tensor([2, 7]))
    assert sy.tolist() == [0, 1, 0, 1] and sx.tolist() == [2.0, 7.0, 12.0, 17.0]
    y = torch.tensor([0] * 10 + [1] * 5 + [2])
    kept, held = stratified_holdout(y, 0.2, seed=0)
    # class 2 keeps its only image
    assert torch.bincount(y[held], minlength=3).tolist() == [2, 1, 0]
    assert sorted(kept.tolist() + held.tolist()) == list(range(16))


def test_head_tail_and_shot_splits(cifar100_root: Path) -> None:
    counts = torch.tensor(long_tail_counts(100, 500, 100.0))
    many, medium, few = shot_split(counts)
    assert len(many) == 35 and len(many) + len(medium) + len(few) == 100
    assert all(counts[c] < 20 for c in few) and all(20 <= counts[c] <= 100 for c in medium)
    b = load("cifar100_lt", cifar100_root, imbalance_ratio=10.0, head_threshold=5)
    assert set(b.head_classes) | set(b.tail_classes) == set(range(100))
    assert all(b.class_counts[c] >= 5 for c in b.head_classes) and all(
        b.class_counts[c] < 5 for c in b.tail_classes
    )
    assert b.few_classes == tuple(range(100)) and b.many_classes == ()


def test_digits_builtin() -> None:
    b = load("digits")
    check_bundle(b, 1, 8)
    assert b.num_classes == 10 and not b.flip_ok and len(b.test) == 359


def test_batches_cover_the_split_once(cifar10_root: Path) -> None:
    b = load("cifar10", cifar10_root)
    g = torch.Generator().manual_seed(0)
    ys = torch.cat(
        [y for _, y in b.train.batches(16, shuffle=True, generator=g, augment=True, flip=b.flip_ok)]
    )
    assert sorted(ys.tolist()) == sorted(b.train.y.tolist())
