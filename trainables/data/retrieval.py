"""Metric-learning benchmarks split by class: CUB-200-2011, Cars-196 and the built-in glyphs.

The first half of the classes (1-100 of CUB, 1-98 of Cars) trains, with the validation split
drawn from their images; the second half is the test set of classes never seen in training
(``DatasetBundle.retrieval = True``), evaluated by Recall@K and MAP@R. Images are decoded to
``data.image_size`` (default 64) and held in memory (see image_files), or streamed from disk
per batch above ``STREAM_ABOVE_IMAGES`` images (see streaming).

Layouts under ``data.root``:

- CUB: ``CUB_200_2011/{images.txt, image_class_labels.txt, images/...}`` (``classes.txt``
  optional, for names); ``data.root`` may also be the ``CUB_200_2011`` folder itself.
- Cars: ``cars196/{cars_annos.mat, car_ims/...}`` or ``{cars_annos.mat, car_ims/}`` directly
  in ``data.root``: the all-images annotation file of Krause et al. 2013 (fields
  ``relative_im_path``, ``class`` 1..196; ``class_names`` optional), read with scipy.
"""

from __future__ import annotations

from pathlib import Path

import torch

from trainables.config import DataConfig
from trainables.data.assemble import retrieval_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.errors import DatasetError
from trainables.data.image_files import DEFAULT_FOLDER_IMAGE_SIZE
from trainables.data.roots import data_root
from trainables.data.streaming import images_or_paths, should_stream

__all__ = ["CARS_LAYOUT", "CUB_LAYOUT", "read_cars_annotations", "read_cub_lists"]

CUB_LAYOUT = "<root>/CUB_200_2011/{images.txt,image_class_labels.txt,images/<class>/<image>.jpg}"
CARS_LAYOUT = "<root>/cars196/{cars_annos.mat,car_ims/<image>.jpg} (or both directly in <root>)"


def _find(root: Path, candidates: tuple[str, ...], marker: str, layout: str) -> Path:
    for sub in candidates:
        if (root / sub / marker).is_file():
            return root / sub
    raise DatasetError(f"{root / candidates[0] / marker} is missing: expected {layout}")


def _read_pairs(path: Path) -> dict[int, str]:
    """A CUB list file: ``<id> <value>`` per line."""
    if not path.is_file():
        raise DatasetError(f"{path} is missing: expected {CUB_LAYOUT}")
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            key, _, value = line.strip().partition(" ")
            if not key.isdigit() or not value:
                raise DatasetError(f"{path}:{n} is not '<id> <value>': expected {CUB_LAYOUT}")
            out[int(key)] = value.strip()
    return out


def read_cub_lists(folder: Path) -> tuple[list[Path], torch.Tensor, tuple[str, ...]]:
    """(image paths, labels 0..C-1, class names) of a CUB_200_2011 folder."""
    images = _read_pairs(folder / "images.txt")
    labels = _read_pairs(folder / "image_class_labels.txt")
    missing = sorted(set(images) - set(labels))
    if missing:
        raise DatasetError(
            f"{folder / 'image_class_labels.txt'} has no label for image id {missing[0]}: expected {CUB_LAYOUT}"
        )
    ids = sorted(images)
    classes = sorted({int(labels[i]) for i in ids})
    named = _read_pairs(folder / "classes.txt") if (folder / "classes.txt").is_file() else {}
    index = {c: k for k, c in enumerate(classes)}
    y = torch.tensor([index[int(labels[i])] for i in ids], dtype=torch.int64)
    names = tuple(named.get(c, str(c)) for c in classes)
    return [folder / "images" / images[i] for i in ids], y, names


def read_cars_annotations(folder: Path) -> tuple[list[Path], torch.Tensor, tuple[str, ...]]:
    """(image paths, labels 0..C-1, class names) from ``cars_annos.mat``."""
    from scipy.io import loadmat

    path = folder / "cars_annos.mat"
    try:
        mat = loadmat(path, squeeze_me=True)
        annotations = mat["annotations"]
        rel = [str(a) for a in annotations["relative_im_path"]]
        raw_classes = [int(c) for c in annotations["class"]]
    except Exception as err:  # scipy raises many types on a foreign file
        raise DatasetError(
            f"{path} is not a cars_annos.mat ({type(err).__name__}): expected {CARS_LAYOUT}"
        ) from None
    classes = sorted(set(raw_classes))
    index = {c: k for k, c in enumerate(classes)}
    stored = [str(n) for n in mat["class_names"]] if "class_names" in mat else []
    names = tuple(stored[c - 1] if 0 < c <= len(stored) else str(c) for c in classes)
    return (
        [folder / r for r in rel],
        torch.tensor([index[c] for c in raw_classes], dtype=torch.int64),
        names,
    )


@DATASETS.register("cub200")
def cub200(cfg: DataConfig) -> DatasetBundle:
    """CUB-200-2011 (Wah et al. 2011): 11,788 bird images, 200 species; 100 train / 100 unseen test."""
    folder = _find(data_root(cfg, CUB_LAYOUT), ("CUB_200_2011", "."), "images.txt", CUB_LAYOUT)
    paths, y, names = read_cub_lists(folder)
    x = images_or_paths(
        paths, cfg.image_size or DEFAULT_FOLDER_IMAGE_SIZE, CUB_LAYOUT, should_stream(len(paths))
    )
    return retrieval_bundle(x, y, names, cfg, name="cub200", flip_ok=True)


@DATASETS.register("cars196")
def cars196(cfg: DataConfig) -> DatasetBundle:
    """Cars-196 (Krause et al. 2013): 16,185 car images, 196 models; 98 train / 98 unseen test."""
    folder = _find(data_root(cfg, CARS_LAYOUT), ("cars196", "."), "cars_annos.mat", CARS_LAYOUT)
    paths, y, names = read_cars_annotations(folder)
    x = images_or_paths(
        paths, cfg.image_size or DEFAULT_FOLDER_IMAGE_SIZE, CARS_LAYOUT, should_stream(len(paths))
    )
    return retrieval_bundle(x, y, names, cfg, name="cars196", flip_ok=True)


@DATASETS.register("glyph_retrieval")
def glyph_retrieval(cfg: DataConfig) -> DatasetBundle:
    """The built-in glyphs split by class, the CUB/Cars protocol on a CPU: of the ``data.num_classes``
    characters (drawn with ``data.subset_seed``) the first half trains, with the validation split held out
    of their images, and the second half is the test set of characters never seen in training (Recall@1).
    A class's train-font and test-font renders are pooled: here classes, not fonts, keep train and test apart."""
    import dataclasses

    from trainables.data.glyphs import glyph_arrays

    a = glyph_arrays(cfg)
    names = tuple(f"U+{ord(c):04X} {c}" for c in a["chars"])
    x, y = torch.cat([a["train_x"], a["test_x"]]), torch.cat([a["train_y"], a["test_y"]])
    chosen = dataclasses.replace(cfg, num_classes=0)  # glyph_arrays already drew the classes
    return retrieval_bundle(x, y, names, chosen, name="glyph_retrieval", flip_ok=False)
