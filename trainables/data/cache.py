"""An on-disk cache of generated or decoded tensors, keyed by a hash of their parameters.

Files live under ``$STUDY_CACHE_DIR`` (default ``~/.cache/loss-scale-study``) as
``<kind>/<sha256 of the parameters>.pt``, written atomically (temp file + rename) so concurrent
trials never read half a file; a file that fails to load is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["CACHE_ENV", "cache_dir", "cached", "params_hash"]

CACHE_ENV = "STUDY_CACHE_DIR"


def cache_dir() -> Path:
    """``$STUDY_CACHE_DIR`` or ``~/.cache/loss-scale-study``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "loss-scale-study")


def params_hash(params: Mapping[str, Any]) -> str:
    """A stable hex digest of JSON-serializable parameters (key order does not matter)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached(
    kind: str, params: Mapping[str, Any], build: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Load ``<cache>/<kind>/<hash>.pt`` or build it, save it with ``torch.save`` and return it.

    ``build`` returns a dict of tensors, numbers, strings and lists of them (what
    ``torch.load(weights_only=True)`` accepts).
    """
    path = cache_dir() / kind / f"{params_hash(params)}.pt"
    if path.exists():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a truncated or foreign file: rebuild it
            pass
    data = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
        os.replace(tmp, path)
    except OSError:  # a read-only cache is not an error: the data is still returned
        pass
    return data
