"""What data a trial saw, as digests that must agree wherever the same data config is loaded.

``dataset_fingerprint(cfg)`` returns ``{"data.fingerprint": ..., "data.sources": ...}``:

- glyphs (and glyph_retrieval): the sources are the font files the renders come from (their names
  and contents), the fingerprint is the rendered set itself (uint8 images and labels of every
  split, before any standardization). Two machines with different fonts installed render
  different sets for one config: the digests show it.
- digits: the arrays scikit-learn ships.
- datasets read from ``data.root`` (CIFAR, MNIST, folders, CUB, Cars): the files of the dataset
  (relative path, size and content); both digests are that one. A worker process hashes a file
  once (memo by path, size and modification time).

Raw bytes are hashed, never standardized floats, whose last bits may differ between CPUs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainables.config import DataConfig
from trainables.registry import Registry

__all__ = ["FINGERPRINTS", "data_key", "dataset_fingerprint", "digest_arrays", "digest_files"]

Fingerprint = Callable[[DataConfig], dict[str, str]]
FINGERPRINTS: Registry[Fingerprint] = Registry("dataset fingerprint")
_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def _hasher() -> Any:
    return hashlib.blake2b(digest_size=16)


def digest_arrays(*arrays: Any) -> str:
    """One digest of arrays or tensors: dtype, shape and bytes of each, in order."""
    h = _hasher()
    for a in arrays:
        a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        h = _hasher()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                h.update(block)
        _FILE_DIGESTS[key] = h.hexdigest()
    return _FILE_DIGESTS[key]


def digest_files(files: Iterable[Path], relative_to: Path | None = None) -> str:
    """One digest of files: each one's name (relative to ``relative_to``, else its base name), size and content."""
    h = _hasher()
    for path in sorted(Path(f) for f in files):
        name = str(path.relative_to(relative_to)) if relative_to else path.name
        h.update(f"{name}\0{path.stat().st_size}\0{_file_digest(path)}\n".encode())
    return h.hexdigest()


def data_key(flat_config: dict[str, Any]) -> str:
    """A digest of the ``data.*`` part of a flat trial config: trials with equal keys load equal data."""
    import json

    data = {k: v for k, v in flat_config.items() if k.startswith("data.")}
    return hashlib.blake2b(
        json.dumps(data, sort_keys=True, default=str).encode(), digest_size=8
    ).hexdigest()


def dataset_fingerprint(cfg: DataConfig) -> dict[str, str]:
    """The digests of what ``cfg`` loads; datasets without their own entry are hashed by their files."""
    fingerprint = FINGERPRINTS.get(cfg.name) if cfg.name in FINGERPRINTS else _root_files
    return fingerprint(cfg)


def _glyphs(cfg: DataConfig) -> dict[str, str]:
    from trainables.data.glyphs import glyph_arrays, glyph_class_pool

    inventory = glyph_class_pool(cfg.num_classes, cfg.class_pool)
    arrays = glyph_arrays(cfg)
    splits = [arrays[k] for k in sorted(arrays) if k.endswith(("_x", "_y"))]
    return {
        "data.fingerprint": digest_arrays(*splits),
        "data.sources": digest_files(inventory["font_paths"]),
    }


FINGERPRINTS.register("glyphs")(_glyphs)
FINGERPRINTS.register("glyph_retrieval")(_glyphs)


@FINGERPRINTS.register("digits")
def _digits(cfg: DataConfig) -> dict[str, str]:
    from sklearn.datasets import load_digits

    d = load_digits()
    digest = digest_arrays(d.images, d.target)
    return {"data.fingerprint": digest, "data.sources": digest}


def _root_files(cfg: DataConfig) -> dict[str, str]:
    from trainables.data.roots import data_root

    root = data_root(cfg, "the dataset's files")
    files = [Path(d) / f for d, _, names in os.walk(root) for f in names if not f.startswith(".")]
    digest = digest_files(files, relative_to=root)
    return {"data.fingerprint": digest, "data.sources": digest}
