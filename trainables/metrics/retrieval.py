"""Retrieval metrics on embeddings: Recall@K, R-precision and MAP@R (Musgrave et al. 2020).

Neighbours are ranked by cosine similarity and a query is never its own neighbour. For a query
with R other samples of its class, R-precision is the share of its R nearest neighbours in the
class and MAP@R = (1/R) sum_{i<=R} P(i) * [neighbour i is in the class], P(i) the precision at
i. Queries whose class has no other sample are skipped. Similarities are computed in row
chunks so memory stays O(chunk x N).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["map_at_r", "r_precision", "recall_at_k", "retrieval_report"]

CHUNK_ROWS = 1024  # queries per similarity block


def _as_tensors(embeddings: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor]:
    e = torch.as_tensor(embeddings).detach().float()
    return F.normalize(e, dim=1), torch.as_tensor(labels, device=e.device).detach().long()


def _neighbour_labels(
    e: torch.Tensor, y: torch.Tensor, k: int
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Labels of each query's ``k`` nearest neighbours (self excluded), by chunk of queries."""
    n = len(y)
    for start in range(0, n, CHUNK_ROWS):
        rows = slice(start, min(start + CHUNK_ROWS, n))
        sim = e[rows] @ e.T
        sim[torch.arange(sim.shape[0]), torch.arange(rows.start, rows.stop)] = float("-inf")
        yield rows, y[sim.topk(k, dim=1).indices]


def recall_at_k(embeddings: Any, labels: Any, ks: Iterable[int] = (1, 2, 4, 8)) -> dict[int, float]:
    """Share of queries with at least one same-class sample among their k nearest neighbours."""
    e, y = _as_tensors(embeddings, labels)
    ks = sorted(set(int(k) for k in ks))
    if len(y) < 2:
        return {k: float("nan") for k in ks}
    k_max = min(ks[-1], len(y) - 1)
    hits = {k: 0 for k in ks}
    for rows, nb in _neighbour_labels(e, y, k_max):
        match = nb == y[rows, None]
        for k in ks:
            hits[k] += int(match[:, :k].any(dim=1).sum())
    return {k: hits[k] / len(y) for k in ks}


def _r_metrics(embeddings: Any, labels: Any) -> tuple[float, float]:
    e, y = _as_tensors(embeddings, labels)
    if len(y) < 2:
        return float("nan"), float("nan")
    _, inverse, counts = torch.unique(y, return_inverse=True, return_counts=True)
    r_all = counts[inverse] - 1  # other samples of each query's class
    valid = r_all > 0
    if not bool(valid.any()):
        return float("nan"), float("nan")
    r_max = int(r_all.max())
    map_sum, prec_sum = 0.0, 0.0
    for rows, nb in _neighbour_labels(e, y, r_max):
        r = r_all[rows]
        rank = torch.arange(1, r_max + 1, device=e.device)
        within = rank[None, :] <= r[:, None]
        rel = (nb == y[rows, None]) & within
        precision_at_i = rel.cumsum(1) / rank[None, :]
        ok = valid[rows]
        denom = r.clamp_min(1).float()
        map_sum += float(((precision_at_i * rel).sum(1) / denom)[ok].sum())
        prec_sum += float((rel.sum(1) / denom)[ok].sum())
    n = int(valid.sum())
    return map_sum / n, prec_sum / n


def map_at_r(embeddings: Any, labels: Any) -> float:
    """Mean average precision at R over queries (R = other samples of the query's class)."""
    return _r_metrics(embeddings, labels)[0]


def r_precision(embeddings: Any, labels: Any) -> float:
    """Mean share of same-class samples among each query's R nearest neighbours."""
    return _r_metrics(embeddings, labels)[1]


def retrieval_report(
    embeddings: Any, labels: Any, ks: Sequence[int] = (1, 2, 4, 8)
) -> dict[str, float]:
    """Flat names for logging: ``recall_at_<k>``, ``map_at_r``, ``r_precision``."""
    out = {f"recall_at_{k}": v for k, v in recall_at_k(embeddings, labels, ks).items()}
    out["map_at_r"], out["r_precision"] = _r_metrics(embeddings, labels)
    return out
