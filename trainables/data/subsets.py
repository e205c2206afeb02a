"""Class subsets drawn by seed, stratified hold-outs, head/tail and many/medium/few splits."""

from __future__ import annotations

import torch

from trainables.data.errors import DatasetError

MANY_SHOT_ABOVE = 100  # many-shot classes have > 100 training images (Liu et al. 2019, OLTR)
FEW_SHOT_BELOW = 20  # few-shot classes have < 20; medium-shot is 20..100

__all__ = [
    "FEW_SHOT_BELOW",
    "MANY_SHOT_ABOVE",
    "choose_classes",
    "head_tail_split",
    "select_classes",
    "shot_split",
    "stratified_holdout",
]


def choose_classes(num_available: int, num_classes: int, seed: int, dataset: str) -> torch.Tensor:
    """Sorted indices of ``num_classes`` classes drawn with ``seed`` (0 = all of them)."""
    if num_classes == 0 or num_classes == num_available:
        return torch.arange(num_available)
    if num_classes > num_available:
        raise DatasetError(
            f"data.num_classes={num_classes} is too many: {dataset} has at most {num_available} classes"
        )
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(num_available, generator=g)[:num_classes].sort().values


def select_classes(
    x: torch.Tensor, y: torch.Tensor, classes: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the images of ``classes`` and relabel them 0..len(classes)-1 in the order given."""
    lookup = torch.full((int(max(int(y.max()), int(classes.max()))) + 1,), -1, dtype=torch.int64)
    lookup[classes] = torch.arange(len(classes))
    new = lookup[y]
    keep = new >= 0
    return x[keep], new[keep]


def stratified_holdout(
    y: torch.Tensor, fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept, held) sorted indices: round(n_c * fraction) images of each class held out.

    Every class keeps at least one image, so a class with one image is never held out; when
    rounding would hold out nothing at all, one image of the largest class is held out.
    """
    g = torch.Generator().manual_seed(seed)
    classes = torch.unique(y).tolist()
    sizes = [int((y == c).sum()) for c in classes]
    n_held = [min(int(n * fraction + 0.5), n - 1) for n in sizes]
    if fraction > 0 and sum(n_held) == 0 and max(sizes, default=0) >= 2:
        n_held[sizes.index(max(sizes))] = 1
    kept, held = [], []
    for c, k in zip(classes, n_held):
        members = torch.nonzero(y == c).flatten()
        members = members[torch.randperm(len(members), generator=g)]
        held.append(members[:k])
        kept.append(members[k:])

    def cat(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts).sort().values if parts else torch.empty(0, dtype=torch.int64)

    return cat(kept), cat(held)


def head_tail_split(
    counts: torch.Tensor, threshold: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Head classes have >= ``threshold`` training images, tail classes fewer."""
    head = tuple(int(c) for c in torch.nonzero(counts >= threshold).flatten())
    tail = tuple(int(c) for c in torch.nonzero(counts < threshold).flatten())
    return head, tail


def shot_split(counts: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Many-shot (> 100), medium-shot (20..100) and few-shot (< 20) classes."""
    ids = lambda mask: tuple(int(c) for c in torch.nonzero(mask).flatten())  # noqa: E731
    return (
        ids(counts > MANY_SHOT_ABOVE),
        ids((counts >= FEW_SHOT_BELOW) & (counts <= MANY_SHOT_ABOVE)),
        ids(counts < FEW_SHOT_BELOW),
    )
