"""Where on-disk datasets live: ``data.root``, else ``$STUDY_DATA_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

from trainables.config import DataConfig
from trainables.data.errors import DatasetError

__all__ = ["DATA_ENV", "data_root"]

DATA_ENV = "STUDY_DATA_DIR"


def data_root(cfg: DataConfig, layout: str) -> Path:
    """The directory named by ``data.root`` (or ``$STUDY_DATA_DIR``); one-line error if absent."""
    root = cfg.root or os.environ.get(DATA_ENV, "")
    if not root:
        raise DatasetError(
            f"data.root is empty (and ${DATA_ENV} unset) for dataset {cfg.name!r}: expected {layout}"
        )
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DatasetError(
            f"{path} is not a directory (data.root of dataset {cfg.name!r}): expected {layout}"
        )
    return path
