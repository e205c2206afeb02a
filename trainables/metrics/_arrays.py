"""Conversions shared by the metric modules: tensors or sequences to NumPy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["as_numpy"]


def as_numpy(a: Any, dtype: Any = None) -> np.ndarray:
    """A NumPy copy of a tensor (any device), array or sequence."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=dtype)
