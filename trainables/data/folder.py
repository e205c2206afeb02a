"""Any ImageFolder tree: ``<root>/<class>/<image>``, or ``<root>/{train,test}/<class>/<image>``.

With ``train/`` and ``test/`` subfolders those are the splits (classes are the union of their
subfolder names); otherwise a stratified 20% of each class (fixed seed) is the test set. Images
are decoded to RGB at ``data.image_size`` (default 64) and held in memory (see image_files),
or streamed from disk per batch above ``STREAM_ABOVE_IMAGES`` images in all (see streaming).
"""

from __future__ import annotations

from pathlib import Path

import torch

from trainables.config import DataConfig
from trainables.data.assemble import classification_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.errors import DatasetError
from trainables.data.image_files import DEFAULT_FOLDER_IMAGE_SIZE, IMAGE_SUFFIXES
from trainables.data.roots import data_root
from trainables.data.streaming import images_or_paths, should_stream
from trainables.data.subsets import stratified_holdout

__all__ = ["FOLDER_LAYOUT", "scan_class_folders"]

FOLDER_LAYOUT = (
    "<root>/<class>/<image> or <root>/{train,test}/<class>/<image> (an ImageFolder tree)"
)
FOLDER_TEST_FRACTION = 0.2  # share of each class held out as test when there is no test/ folder
TEST_SPLIT_SEED = 0  # fixed, so the test set does not move with data.subset_seed


def scan_class_folders(root: Path) -> dict[str, list[Path]]:
    """Class name -> sorted image files of ``root/<class>/``; class folders without images are skipped."""
    classes = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(
            f for f in sub.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
        )
        if files:
            classes[sub.name] = files
    return classes


def _labelled(
    tree: dict[str, list[Path]], names: tuple[str, ...]
) -> tuple[list[Path], torch.Tensor]:
    index = {n: i for i, n in enumerate(names)}
    paths = [f for n, files in tree.items() for f in files]
    labels = [index[n] for n, files in tree.items() for _ in files]
    return paths, torch.tensor(labels, dtype=torch.int64)


@DATASETS.register("image_folder")
def image_folder(cfg: DataConfig) -> DatasetBundle:
    """Images sorted into one folder per class; see the module docstring for the layout."""
    root = data_root(cfg, FOLDER_LAYOUT)
    size = cfg.image_size or DEFAULT_FOLDER_IMAGE_SIZE
    split_dirs = (root / "train").is_dir() and (root / "test").is_dir()
    trees = (
        {s: scan_class_folders(root / s) for s in ("train", "test")}
        if split_dirs
        else {"all": scan_class_folders(root)}
    )
    names = tuple(sorted({n for tree in trees.values() for n in tree}))
    if len(names) < 2:
        raise DatasetError(
            f"{root} holds {len(names)} class folders with images: expected {FOLDER_LAYOUT}"
        )
    if split_dirs:
        train_paths, train_y = _labelled(trees["train"], names)
        test_paths, test_y = _labelled(trees["test"], names)
        stream = should_stream(len(train_paths) + len(test_paths))
        train_x = images_or_paths(train_paths, size, FOLDER_LAYOUT, stream)
        test_x = images_or_paths(test_paths, size, FOLDER_LAYOUT, stream)
    else:
        paths, y = _labelled(trees["all"], names)
        x = images_or_paths(paths, size, FOLDER_LAYOUT, should_stream(len(paths)))
        pool, test = stratified_holdout(y, FOLDER_TEST_FRACTION, TEST_SPLIT_SEED)
        train_x, train_y, test_x, test_y = x[pool], y[pool], x[test], y[test]
    return classification_bundle(
        train_x, train_y, test_x, test_y, names, cfg, name="image_folder", flip_ok=True
    )
