"""Datasets that ship with installed packages: scikit-learn's digits."""

from __future__ import annotations

import torch

from trainables.config import DataConfig
from trainables.data.assemble import classification_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.subsets import stratified_holdout

__all__ = ["digits"]

DIGITS_TEST_FRACTION = 0.2  # scikit-learn's digits have no official test split
TEST_SPLIT_SEED = 0  # fixed, so the test set does not move with data.subset_seed


@DATASETS.register("digits")
def digits(cfg: DataConfig) -> DatasetBundle:
    """scikit-learn's 1,797 8x8 handwritten digits, 10 classes; a stratified 20% is the test set."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    x = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(raw.target, dtype=torch.int64)
    pool, test = stratified_holdout(y, DIGITS_TEST_FRACTION, TEST_SPLIT_SEED)
    names = tuple(str(i) for i in range(10))
    return classification_bundle(
        x[pool], y[pool], x[test], y[test], names, cfg, name="digits", flip_ok=False
    )
