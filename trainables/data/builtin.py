"""Datasets that ship with installed packages: scikit-learn's digits."""
from __future__ import annotations

import torch

from trainables.config import DataConfig
from trainables.data.base import DATASETS, DatasetBundle, Split


def split_train_val_test(
    x: torch.Tensor, y: torch.Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[Split, Split, Split]:
    """Stratified-by-permutation split with a fixed seed."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=g)
    n_test = int(round(len(y) * test_fraction))
    n_val = int(round((len(y) - n_test) * val_fraction))
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return Split(x[train], y[train]), Split(x[val], y[val]), Split(x[test], y[test])


@DATASETS.register("digits")
def digits(cfg: DataConfig) -> DatasetBundle:
    """scikit-learn's 1,797 8x8 handwritten digits, 10 classes, scaled to [0, 1] and standardized."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = (x - x.mean()) / x.std()
    y = torch.tensor(raw.target, dtype=torch.int64)
    train, val, test = split_train_val_test(x, y, cfg.val_fraction, 0.2, cfg.subset_seed)
    return DatasetBundle(train, val, test, 10, tuple(str(i) for i in range(10)), cfg.head_threshold, flip_ok=False)
