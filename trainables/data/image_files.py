"""Decode image files into one small uint8 tensor, cached by the files' names, sizes and times.

Large folders (CUB-200: 11,788 images; Cars-196: 16,185) are decoded once at a small size
(``data.image_size``, default 64) and kept in memory, like every other split: at 64x64 RGB a
float32 copy of Cars-196 is about 0.8 GB. JPEGs are decoded at reduced scale (Pillow's
``draft``), then the shorter side is resized to the target and the centre square cropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from trainables.data.cache import cached
from trainables.data.errors import DatasetError

__all__ = ["DEFAULT_FOLDER_IMAGE_SIZE", "IMAGE_SUFFIXES", "load_images"]

DEFAULT_FOLDER_IMAGE_SIZE = 64  # pixels: small enough for CPU trials and for RAM, see module doc
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
CACHE_VERSION = 1  # bump when the decoding below changes


def _decode(path: Path, size: int, layout: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.draft("RGB", (size, size))  # JPEG: decode at the smallest scale >= size
            im = im.convert("RGB")
            w, h = im.size
            scale = size / min(w, h)
            im = im.resize(
                (max(size, round(w * scale)), max(size, round(h * scale))),
                Image.BILINEAR,
                reducing_gap=2.0,
            )
            w, h = im.size
            left, top = (w - size) // 2, (h - size) // 2
            return np.asarray(
                im.crop((left, top, left + size, top + size)), dtype=np.uint8
            ).transpose(2, 0, 1)
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: expected {layout}") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DatasetError(
            f"{path} is not a readable image ({type(err).__name__}): expected {layout}"
        ) from None


def _decode_all(paths: Sequence[Path], size: int, layout: str) -> torch.Tensor:
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = _decode(path, size, layout)
    return torch.from_numpy(out)


def load_images(paths: Sequence[Path], size: int, layout: str) -> torch.Tensor:
    """(N, 3, size, size) uint8 images, from the cache when the same files were decoded before."""
    stamps = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            raise DatasetError(f"{path} is missing: expected {layout}") from None
        stamps.append([str(path.resolve()), st.st_size, st.st_mtime_ns])
    params = {"version": CACHE_VERSION, "size": size, "files": stamps}
    return cached("images", params, lambda: {"x": _decode_all(paths, size, layout)})["x"]
