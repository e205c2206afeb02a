"""Datasets of the study: a registry of loaders that return tensors on the training device.

Importing this package registers every dataset: ``glyphs`` (built-in default), ``digits``,
``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``cifar10_lt``, ``cifar100_lt``,
``cub200``, ``cars196`` and ``image_folder``. Folder datasets above ``STREAM_ABOVE_IMAGES``
images stream from disk through a DataLoader (``StreamingSplit``) instead.
"""

# the dataset modules register their loaders when imported
from trainables.data import builtin, cifar, folder, glyphs, mnist, retrieval
from trainables.data.base import DATASETS, DatasetBundle, Split, augment_batch, load_dataset
from trainables.data.errors import DatasetError
from trainables.data.longtail import long_tail_counts, long_tail_indices
from trainables.data.streaming import STREAM_ABOVE_IMAGES, StreamingSplit
from trainables.data.subsets import choose_classes, head_tail_split, shot_split, stratified_holdout

__all__ = [
    "DATASETS",
    "DatasetBundle",
    "DatasetError",
    "STREAM_ABOVE_IMAGES",
    "Split",
    "StreamingSplit",
    "augment_batch",
    "choose_classes",
    "head_tail_split",
    "load_dataset",
    "long_tail_counts",
    "long_tail_indices",
    "shot_split",
    "stratified_holdout",
]
