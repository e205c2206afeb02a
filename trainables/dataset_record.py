"""What a trial trains on, as plain values: a name, a content digest, where it came from and the
split sizes. The study records them as the MLflow run's dataset input; nothing here knows MLflow.

The digest hashes every label of every split, the split shapes, and the pixels of a fixed,
evenly spaced sample of images per split (all of them for small splits), so two trials with the
same digest saw the same data, and a changed file, class subset, long tail or image size
changes it, at the cost of decoding at most ``DIGEST_IMAGES`` images per split.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

import torch

from trainables.config import DataConfig
from trainables.data import DatasetBundle
from trainables.data.roots import DATA_ENV

DIGEST_IMAGES = 64  # images per split whose pixels enter the digest


def dataset_record(cfg: DataConfig, data: DatasetBundle) -> dict[str, Any]:
    """``name``, ``digest``, ``source_type``, ``source`` (a dict) and ``profile`` (a dict) of ``data``."""
    digest = hashlib.sha256()
    splits = {"train": data.train, "val": data.val, "test": data.test}
    for label, split in splits.items():
        y = split.y.detach().cpu().to(torch.int64)
        digest.update(f"{label}:{tuple(split.x.shape)}".encode())
        digest.update(y.numpy().tobytes())
        n = len(split)
        if n:
            picked = torch.linspace(0, n - 1, min(DIGEST_IMAGES, n)).round().long()
            pixels = split.x[picked.to(y.device) if isinstance(split.x, torch.Tensor) else picked]
            digest.update(pixels.detach().float().cpu().contiguous().numpy().tobytes())
    root = cfg.root or os.environ.get(DATA_ENV, "")
    classes = f"C={data.num_classes}" + ("" if cfg.imbalance_ratio == 1.0 else f" rho={cfg.imbalance_ratio:g}")
    return {
        "name": f"{data.name or cfg.name} {classes}",
        "digest": digest.hexdigest()[:16],
        "source_type": "local" if root else "code",
        "source": {"uri": str(root)} if root else {"dataset": cfg.name, "built_in": True},
        "profile": {
            **{f"{label}_images": len(split) for label, split in splits.items()},
            "classes": data.num_classes, "image_shape": list(data.train.x.shape[1:]),
            "subset_seed": cfg.subset_seed, "imbalance_ratio": cfg.imbalance_ratio,
            "retrieval": bool(data.retrieval),
        },
    }


__all__ = ["DIGEST_IMAGES", "dataset_record"]
