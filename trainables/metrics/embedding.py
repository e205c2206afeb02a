"""Feature-space metrics: cluster quality of features and spread of class weights (proxies).

Silhouette and Calinski-Harabasz come from scikit-learn, on the whole set of features given (the
test set's, as seed 000 reports them; CH grows with the number of points, so a subsample would
not compare). Calinski-Harabasz is linear in N and always takes every feature; Silhouette is
O(N^2) and takes every feature up to ``MAX_SILHOUETTE_SAMPLES`` (CIFAR-10's whole test set),
beyond that the sample of that many that scikit-learn's ``sample_size`` draws with ``seed``. The
cosine silhouette takes its distance matrix from ``cosine_distances`` (torch) and the score from
scikit-learn (``metric="precomputed"``). Trials record the cosine Silhouette and Calinski-Harabasz
on the raw (Euclidean) features; seed 000 names no distance for either, and scikit-learn's
Silhouette defaults to the Euclidean one, so its values may be on another scale.

Proxy statistics use the off-diagonal pairs i < j of the cosine-similarity matrix of one proxy
per class (a loss with several centres per class, SoftTriple, gives the normalized mean of its
centres, see ``Objective.class_weights``); the variance is the population variance (ddof = 0).
Seed 002 reports variances of 0.009 to 0.041 over its 100 class proxies, depending on the scale
and dimension.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import calinski_harabasz_score, silhouette_score

from trainables.metrics._arrays import as_numpy

__all__ = [
    "calinski_harabasz",
    "cosine_distances",
    "feature_cluster_report",
    "proxy_cosine_histogram",
    "proxy_cosine_stats",
    "proxy_cosines",
    "silhouette",
]

MAX_SILHOUETTE_SAMPLES = (
    10_000  # Silhouette on every feature up to this many, then on a sample of this many
)


def _defined(y: np.ndarray) -> bool:
    return 2 <= len(np.unique(y)) < len(y)


def silhouette(
    features: Any,
    labels: Any,
    max_samples: int = MAX_SILHOUETTE_SAMPLES,
    seed: int = 0,
    metric: str = "cosine",
) -> float:
    """Mean Silhouette coefficient in [-1, 1] (sklearn) over every feature, or over a sample of
    ``max_samples`` drawn with ``seed`` when there are more; NaN with fewer than 2 classes."""
    x, y = as_numpy(features, np.float64), as_numpy(labels)
    if not _defined(y):
        return float("nan")
    if metric != "cosine":
        sample = max_samples if len(y) > max_samples else None
        return float(silhouette_score(x, y, metric=metric, sample_size=sample, random_state=seed))
    if len(y) > max_samples:  # the sample silhouette_score(sample_size=, random_state=seed) draws
        keep = np.random.RandomState(seed).permutation(len(y))[:max_samples]
        x, y = x[keep], y[keep]
    return float(silhouette_score(cosine_distances(x), y, metric="precomputed"))


def cosine_distances(features: np.ndarray) -> np.ndarray:
    """(N, N) cosine distances in float64, as scikit-learn's ``cosine_distances`` gives them
    (clipped to [0, 2], zero diagonal), by one torch matrix product on the trial's threads: about
    half the time of scikit-learn's own, whose NumPy product and clip dominate a silhouette score."""
    x = torch.nn.functional.normalize(
        torch.from_numpy(np.ascontiguousarray(features, np.float64)), dim=1
    )
    distances = torch.mm(x, x.T).neg_().add_(1.0).clamp_(0.0, 2.0)
    distances.fill_diagonal_(0.0)
    return distances.numpy()


def calinski_harabasz(features: Any, labels: Any) -> float:
    """Calinski-Harabasz index (between / within dispersion, sklearn) over every feature; NaN with
    fewer than 2 classes."""
    x, y = as_numpy(features, np.float64), as_numpy(labels)
    return float(calinski_harabasz_score(x, y)) if _defined(y) else float("nan")


def feature_cluster_report(
    features: Any, labels: Any, seed: int = 0, silhouette_samples: int = MAX_SILHOUETTE_SAMPLES
) -> dict[str, float]:
    """``silhouette`` (cosine, on at most ``silhouette_samples`` features; left out when 0) and
    ``calinski_harabasz`` of the features."""
    out = {"calinski_harabasz": calinski_harabasz(features, labels)}
    if silhouette_samples:
        out["silhouette"] = silhouette(features, labels, max_samples=silhouette_samples, seed=seed)
    return out


def proxy_cosines(weights: Any) -> np.ndarray:
    """Cosine similarities of all class-weight pairs i < j of a (C, D) matrix, as a flat array."""
    w = F.normalize(torch.as_tensor(weights).detach().cpu().double(), dim=1)
    sim = w @ w.T
    i, j = torch.triu_indices(len(w), len(w), offset=1)
    return sim[i, j].numpy()


def proxy_cosine_stats(weights: Any) -> dict[str, float]:
    """``proxy_cos_mean`` and ``proxy_cos_var`` over off-diagonal pairs of class weights."""
    cos = proxy_cosines(weights)
    if not len(cos):
        return {"proxy_cos_mean": float("nan"), "proxy_cos_var": float("nan")}
    return {"proxy_cos_mean": float(cos.mean()), "proxy_cos_var": float(cos.var())}


def proxy_cosine_histogram(weights: Any, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin edges) of the off-diagonal cosine similarities over [-1, 1]."""
    return np.histogram(proxy_cosines(weights), bins=bins, range=(-1.0, 1.0))
