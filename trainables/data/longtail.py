"""Long-tailed training sets: exponential class sizes (Cui et al. 2019, CIFAR-LT).

The long tail's selection is the training set, whole: CIFAR-100-LT at rho = 100 trains on all
of its 10,847 images, as seed 001 does. Its validation split comes from the images the tail left
unused (the balanced pool minus the selection), per class: up to ``round(val_fraction * n_max)``
of each class (at least one), fewer where fewer are left; a class the tail keeps whole (class 0,
n_0 = n_max = its whole pool) has no validation images. At CIFAR-100-LT, rho = 100, that is 50
images for 97 classes, 23 and 45 for classes 1 and 2, none for class 0: 4,918 in all.
"""

from __future__ import annotations

import math

import torch

__all__ = ["long_tail_counts", "long_tail_indices", "long_tail_split"]


def long_tail_counts(num_classes: int, max_per_class: int, imbalance_ratio: float) -> list[int]:
    """n_i = floor(n_max * rho^(-i / (C - 1))) for class i = 0..C-1.

    Args:
        num_classes: C.
        max_per_class: n_max, images of class 0 (the largest).
        imbalance_ratio: rho = n_max / n_min (1 = balanced).

    CIFAR-100-LT (C=100, n_max=500, rho=100) keeps 10,847 images, 35 classes with >= 100.
    """
    if num_classes < 1 or max_per_class < 1 or imbalance_ratio < 1:
        raise ValueError(
            f"long_tail_counts needs C >= 1, n_max >= 1, rho >= 1; got {num_classes}, {max_per_class}, {imbalance_ratio}"
        )
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
    if imbalance_ratio == 1.0 and max_per_class == 0:
        return torch.arange(len(labels))
    return long_tail_split(
        labels, num_classes, max_per_class, imbalance_ratio, seed, val_fraction=0.0
    )[0]


def long_tail_split(
    labels: torch.Tensor,
    num_classes: int,
    max_per_class: int,
    imbalance_ratio: float,
    seed: int,
    val_fraction: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, val) sorted indices: the long tail's selection (as ``long_tail_indices``) and, per
    class, up to ``max(1, round(val_fraction * n_max))`` of the images the selection left unused.

    Both come from one permutation per class drawn with ``seed`` (the selection is its head, the
    validation images follow it), so the two never share an image.
    """
    labels = labels.cpu()
    available = torch.bincount(labels, minlength=num_classes)
    n_max = max_per_class or int(available[available > 0].min())
    counts = long_tail_counts(num_classes, n_max, imbalance_ratio)
    per_class_val = max(1, int(val_fraction * n_max + 0.5)) if val_fraction > 0 else 0
    g = torch.Generator().manual_seed(seed)
    keep, held = [], []
    for c in range(num_classes):
        members = torch.nonzero(labels == c).flatten()
        order = members[torch.randperm(len(members), generator=g)]
        keep.append(order[: counts[c]])
        held.append(order[counts[c] : counts[c] + per_class_val])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values
