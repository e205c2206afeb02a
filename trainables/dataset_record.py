"""What a trial trains on, as plain values: a name, a digest, where it came from and the split
sizes. The study records them as the MLflow run's dataset input; nothing here knows MLflow.

The digest combines the source's fingerprint (``trainables.data.fingerprint``: raw bytes of the
dataset files or of the rendered set, never standardized floats; the run's ``data.fingerprint``
tag) with the data config that selects from it (class subset, long tail, split, image size; not
``data.root``, which differs between machines, nor ``data.augment``, which changes no stored
image), so two runs with one digest trained on the same data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any

from trainables.config import DataConfig
from trainables.data import DatasetBundle
from trainables.data.roots import DATA_ENV

# data config fields that do not change which images a trial gets
NOT_SELECTING = ("root", "augment", "important_class")


def dataset_record(cfg: DataConfig, data: DatasetBundle, fingerprint: str) -> dict[str, Any]:
    """``name``, ``digest``, ``source_type``, ``source`` (a dict) and ``profile`` (a dict) of ``data``,
    loaded by ``cfg`` from the source whose fingerprint is ``fingerprint``."""
    selection = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_SELECTING}
    digest = hashlib.blake2b(
        f"{fingerprint}|{json.dumps(selection, sort_keys=True, default=str)}".encode(),
        digest_size=16,
    ).hexdigest()
    root = cfg.root or os.environ.get(DATA_ENV, "")
    classes = f"C={data.num_classes}" + (
        "" if cfg.imbalance_ratio == 1.0 else f" rho={cfg.imbalance_ratio:g}"
    )
    splits = {"train": data.train, "val": data.val, "test": data.test}
    # validation classes (retrieval), apart from the training and test classes
    if data.val_unseen is not None:
        splits["val_classes"] = data.val_unseen
    return {
        "name": f"{data.name or cfg.name} {classes}",
        "digest": digest,
        "source_type": "local" if root else "code",
        "source": {"uri": str(root)} if root else {"dataset": cfg.name, "built_in": True},
        "profile": {
            **{f"{label}_images": len(split) for label, split in splits.items()},
            "classes": data.num_classes,
            "image_shape": list(data.train.x.shape[1:]),
            "subset_seed": cfg.subset_seed,
            "imbalance_ratio": cfg.imbalance_ratio,
            "retrieval": bool(data.retrieval),
            "source_fingerprint": fingerprint,
        },
    }


__all__ = ["dataset_record"]
