"""Long-tailed training sets: exponential class sizes (Cui et al. 2019, CIFAR-LT)."""
from __future__ import annotations

import math

import torch

__all__ = ["long_tail_counts", "long_tail_indices"]


def long_tail_counts(num_classes: int, max_per_class: int, imbalance_ratio: float) -> list[int]:
    """n_i = floor(n_max * rho^(-i / (C - 1))) for class i = 0..C-1.

    Args:
        num_classes: C.
        max_per_class: n_max, images of class 0 (the largest).
        imbalance_ratio: rho = n_max / n_min (1 = balanced).

    CIFAR-100-LT (C=100, n_max=500, rho=100) keeps 10,847 images, 35 classes with >= 100.
    """
    if num_classes < 1 or max_per_class < 1 or imbalance_ratio < 1:
        raise ValueError(f"long_tail_counts needs C >= 1, n_max >= 1, rho >= 1; got {num_classes}, {max_per_class}, {imbalance_ratio}")
    if num_classes == 1:
        return [max_per_class]
    return [
        max(1, math.floor(max_per_class * imbalance_ratio ** (-i / (num_classes - 1)) + 1e-9))
        for i in range(num_classes)
    ]


def long_tail_indices(
    labels: torch.Tensor, num_classes: int, max_per_class: int, imbalance_ratio: float, seed: int
) -> torch.Tensor:
    """Indices (sorted) of a long-tailed subset of ``labels``; images chosen with ``seed``.

    ``max_per_class`` = 0 takes n_max from the smallest class, so every n_i is available;
    class i keeps min(n_i, its images). With rho = 1 and n_max = 0 everything is kept.
    """
    available = torch.bincount(labels.cpu(), minlength=num_classes)
    if imbalance_ratio == 1.0 and max_per_class == 0:
        return torch.arange(len(labels))
    n_max = max_per_class or int(available[available > 0].min())
    counts = long_tail_counts(num_classes, n_max, imbalance_ratio)
    g = torch.Generator().manual_seed(seed)
    keep = []
    for c in range(num_classes):
        members = torch.nonzero(labels.cpu() == c).flatten()
        order = torch.randperm(len(members), generator=g)
        keep.append(members[order[: counts[c]]])
    return torch.cat(keep).sort().values
