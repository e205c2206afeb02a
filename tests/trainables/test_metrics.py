"""Metrics against scikit-learn and hand-computed cases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from trainables import metrics
from trainables.config import ModelConfig
from trainables.models import build_model

Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 3])
Y_PRED = np.array([0, 0, 1, 0, 1, 2, 2, 2, 0, 1])


def test_classification_metrics_match_sklearn() -> None:
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(skm.accuracy_score(Y_TRUE, Y_PRED))
    assert metrics.balanced_accuracy(Y_TRUE, Y_PRED) == pytest.approx(
        skm.balanced_accuracy_score(Y_TRUE, Y_PRED)
    )
    recall = metrics.per_class_recall(torch.tensor(Y_TRUE), torch.tensor(Y_PRED), 5)
    np.testing.assert_allclose(recall[:4], [0.75, 0.5, 2 / 3, 0.0])
    assert math.isnan(recall[4])  # class 4 never occurs
    np.testing.assert_array_equal(
        metrics.confusion_matrix(Y_TRUE, Y_PRED, 5),
        skm.confusion_matrix(Y_TRUE, Y_PRED, labels=range(5)),
    )


def test_group_accuracy_and_report() -> None:
    report = metrics.classification_report(
        Y_TRUE,
        Y_PRED,
        4,
        head=(0, 1),
        tail=(2, 3),
        many=(0,),
        medium=(1, 2),
        few=(),
        important_class=2,
    )
    assert report["accuracy"] == pytest.approx(0.6)
    assert report["head_accuracy"] == pytest.approx((0.75 + 0.5) / 2)
    assert report["tail_accuracy"] == pytest.approx((2 / 3 + 0.0) / 2)
    assert report["many_accuracy"] == pytest.approx(0.75)
    assert report["medium_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert "few_accuracy" not in report  # empty group: omitted
    assert report["important_class_recall"] == pytest.approx(2 / 3)
    assert set(metrics.classification_report(Y_TRUE, Y_PRED, 4)) == {
        "accuracy",
        "balanced_accuracy",
    }


def test_recall_at_k_hand_built_2d() -> None:
    # angles (degrees) on the unit circle; cosine neighbours follow the angle
    angles = torch.tensor([0.0, 10.0, 100.0, 110.0, 200.0, 215.0])
    e = torch.stack([torch.cos(torch.deg2rad(angles)), torch.sin(torch.deg2rad(angles))], 1) * 3.0
    labels = torch.tensor([0, 0, 1, 2, 2, 1])
    # nearest neighbours: 0->1 (hit), 1->0 (hit), 2->3 (miss), 3->2 (miss), 4->5 (miss), 5->4 (miss)
    r = metrics.recall_at_k(e, labels, ks=(1, 2, 3))
    assert r[1] == pytest.approx(2 / 6)
    # second neighbours: 2 -> 1 (10 -> 100 is 90 deg, 200 is 100 deg) miss; 3 -> 4 (90 deg) hit;
    # 4 -> 3 (90 deg) hit; 5 -> 3 (105 deg) miss
    assert r[2] == pytest.approx(4 / 6)
    assert set(r) == {1, 2, 3}


def test_query_is_not_its_own_neighbour() -> None:
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert metrics.recall_at_k(e, torch.tensor([0, 1]), ks=(1,))[1] == 0.0


def test_map_at_r_exact_small_case() -> None:
    # points on a line through cosine: angles 0, 10, 30, 60; labels a a b a
    angles = torch.tensor([0.0, 10.0, 30.0, 60.0])
    e = torch.stack([torch.cos(torch.deg2rad(angles)), torch.sin(torch.deg2rad(angles))], 1)
    labels = torch.tensor([0, 0, 1, 0])
    # q0 (R=2): 10(a) 30(b) -> P(1)=1, rel2=0 -> AP=1/2; RP=1/2
    # q1 (R=2): 0(a, 10deg) 30(b, 20deg) -> AP=1/2; RP=1/2
    # q3 (R=2): 30(b) 10(a) -> P(2)=1/2 -> AP=(1/2)/2=1/4; RP=1/2
    # q2 has R=0: skipped
    assert metrics.map_at_r(e, labels) == pytest.approx((0.5 + 0.5 + 0.25) / 3)
    assert metrics.r_precision(e, labels) == pytest.approx(0.5)
    report = metrics.retrieval_report(e, labels, ks=(1,))
    assert set(report) == {"recall_at_1", "map_at_r", "r_precision"}


def _reference_r_metrics(e: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    e = torch.nn.functional.normalize(e, dim=1)
    sim = e @ e.T
    maps, rps = [], []
    for q in range(len(y)):
        r = int((y == y[q]).sum()) - 1
        if r == 0:
            continue
        order = [
            int(i) for i in torch.argsort(sim[q], descending=True, stable=True) if int(i) != q
        ][:r]
        rel = [int(y[i] == y[q]) for i in order]
        maps.append(sum(rel[i] * sum(rel[: i + 1]) / (i + 1) for i in range(r)) / r)
        rps.append(sum(rel) / r)
    return float(np.mean(maps)), float(np.mean(rps))


def test_r_metrics_match_brute_force_on_random_data() -> None:
    g = torch.Generator().manual_seed(0)
    e, y = torch.randn(60, 5, generator=g), torch.randint(0, 6, (60,), generator=g)
    ref_map, ref_rp = _reference_r_metrics(e, y)
    assert metrics.map_at_r(e, y) == pytest.approx(ref_map)
    assert metrics.r_precision(e, y) == pytest.approx(ref_rp)


def test_cluster_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (30, 4)) + 5, rng.normal(0, 1, (30, 4)) - 5])
    y = np.repeat([0, 1], 30)
    assert metrics.silhouette(x, y, metric="euclidean") == pytest.approx(skm.silhouette_score(x, y))
    assert metrics.calinski_harabasz(torch.tensor(x), torch.tensor(y)) == pytest.approx(
        skm.calinski_harabasz_score(x, y)
    )
    capped = metrics.silhouette(x, y, max_samples=20, metric="euclidean")
    assert -1 <= capped <= 1 and capped != pytest.approx(skm.silhouette_score(x, y))
    assert math.isnan(metrics.silhouette(x, np.zeros(60)))


def test_cluster_metrics_take_every_feature_of_a_large_test_set() -> None:
    """Calinski-Harabasz grows with the number of points: it is never taken on a sample (seed 000
    reports it over CIFAR-10's 10,000 test images); Silhouette takes every feature up to 10,000."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(10), 1000)
    x = rng.normal(0, 1, (10_000, 3)) + 3 * rng.normal(0, 1, (10, 3))[y]
    whole = skm.calinski_harabasz_score(x, y)
    assert metrics.calinski_harabasz(x, y) == pytest.approx(whole)
    # why a sample would not do
    assert metrics.calinski_harabasz(x[::5], y[::5]) == pytest.approx(whole / 5, rel=0.2)
    report = metrics.feature_cluster_report(x[:3000], y[:3000])
    assert report["silhouette"] == pytest.approx(
        skm.silhouette_score(x[:3000], y[:3000], metric="cosine")
    )
    assert report["calinski_harabasz"] == pytest.approx(
        skm.calinski_harabasz_score(x[:3000], y[:3000])
    )


def test_softtriple_proxy_statistics_are_over_one_proxy_per_class() -> None:
    """Two classes with two centers each: the class proxies are the normalized means of their
    centers, and the cosine statistics are over proxy pairs, not over the four centers."""
    from trainables.config import LossConfig
    from trainables.losses import Objective

    obj = Objective(LossConfig(output="softtriple", params={"centers_per_class": 2}), 3, 2, (), ())
    # class 2: proxy along (1, -1)
    centers = torch.tensor(
        [
            [1.0, 0.0],
            [0.0, 1.0],  # class 0: proxy along (1, 1)
            [-2.0, 0.0],
            [0.0, -2.0],  # class 1: proxy along (-1, -1)
            [1.0, 0.0],
            [0.0, -3.0],
        ]
    )
    with torch.no_grad():
        obj.output.weight.copy_(centers)
    proxies = obj.class_weights()
    s = 2**-0.5
    assert torch.allclose(proxies, torch.tensor([[s, s], [-s, -s], [s, -s]]), atol=1e-6)
    stats = metrics.proxy_cosine_stats(proxies)  # proxy pairs: cosines -1, 0, 0
    assert stats["proxy_cos_mean"] == pytest.approx(-1 / 3)
    assert stats["proxy_cos_var"] == pytest.approx(np.var([-1.0, 0.0, 0.0]))
    assert metrics.proxy_cosine_stats(centers)["proxy_cos_var"] != pytest.approx(
        stats["proxy_cos_var"]
    )


def test_proxy_cosine_statistics() -> None:
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])  # pairwise cosines: 0, -1, 0
    stats = metrics.proxy_cosine_stats(w)
    assert stats["proxy_cos_mean"] == pytest.approx(-1 / 3)
    assert stats["proxy_cos_var"] == pytest.approx(np.var([0.0, -1.0, 0.0]))
    counts, edges = metrics.proxy_cosine_histogram(w, bins=4)
    assert counts.sum() == 3 and edges[0] == -1 and edges[-1] == 1


@pytest.mark.parametrize("name", ["small_cnn", "resnet20"])
def test_gradcam_grid_writes_png(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=name, embedding_dim=8), 1, 16)
    model.train()
    weights = torch.randn(3, 8)
    images = torch.randn(5, 1, 16, 16)
    maps = metrics.gradcam_maps(model, lambda e: e @ weights.T, images, [0, 1, 2, 0, 1])
    assert maps.shape == (5, 16, 16) and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert model.training  # mode restored
    path = metrics.gradcam_grid(
        model,
        lambda e: e @ weights.T,
        images,
        torch.tensor([0, 1, 2, 0, 1]),
        tmp_path / "cam" / "grid.png",
        class_names=["a", "b", "c"],
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    grid = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert grid.shape == (96 + 14, 5 * 96, 3)  # one row of five 96 px tiles under 14 px captions
    tiles = grid[14:]
    assert (
        np.abs(tiles[..., 0] - tiles[..., 2]) > 30
    ).mean() > 0.1  # the jet heat map tints gray images


def test_silhouette_samples_caps_or_skips_the_score() -> None:
    """``train.silhouette_samples`` caps the silhouette's sample (seeded, so repeatable) or leaves
    the score out at 0; Calinski-Harabasz stays over every feature either way."""
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(20), 100)
    x = rng.normal(0, 1, (2000, 4)) + 2 * rng.normal(0, 1, (20, 4))[y]
    capped = metrics.feature_cluster_report(x, y, silhouette_samples=500)
    assert capped["silhouette"] == pytest.approx(
        skm.silhouette_score(x, y, metric="cosine", sample_size=500, random_state=0)
    )
    assert capped["silhouette"] != pytest.approx(skm.silhouette_score(x, y, metric="cosine"))
    skipped = metrics.feature_cluster_report(x, y, silhouette_samples=0)
    assert "silhouette" not in skipped
    assert skipped["calinski_harabasz"] == pytest.approx(skm.calinski_harabasz_score(x, y))
