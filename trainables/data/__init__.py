"""Datasets of the study: a registry of loaders that return tensors on the training device."""
from trainables.data.base import DATASETS, DatasetBundle, Split, load_dataset
from trainables.data import builtin  # noqa: F401  (registers the built-in datasets)

__all__ = ["DATASETS", "DatasetBundle", "Split", "load_dataset"]
