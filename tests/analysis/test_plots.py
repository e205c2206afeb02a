"""Every figure writes a non-empty PNG and SVG from the data its compute function returns."""

from __future__ import annotations

import pytest
from synthetic_study import synthetic_trials

from analysis import plots
from analysis.figures import reference_points
from analysis.importance import importance_info
from analysis.summaries import group_info, history_info, schedule_candidates, schedule_info
from analysis.trends import scale_trend


@pytest.fixture(scope="module")
def trials():
    t = synthetic_trials(class_counts=(5, 20, 100), per_class=8, seed=4)
    (
        t["param:train.epochs"],
        t["param:train.pretrain_epochs"],
        t["param:train.additional_epochs"],
    ) = 4, 1, 4
    t.loc[:3, "param:scale.schedule"] = "linear"
    t["param:scale.end"], t["param:scale.switch_at"] = 5.0, 0.5
    t["metric:test_head_accuracy"], t["metric:test_tail_accuracy"] = (
        t["metric:test_accuracy"] + 0.02,
        t["metric:test_accuracy"] - 0.2,
    )
    for k in range(4):
        t[f"metric:test_class_{k}_recall"] = 0.5 + 0.1 * k
    t.loc[5, "status"] = "FAILED"
    return t


def _written(paths):
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert "<svg" in svg.read_text()[:2000]


def test_every_figure_writes_png_and_svg(trials, tmp_path):
    trend = scale_trend(trials, n_boot=50, experiment="synthetic")
    _written(plots.plot_scale_curves(trend, tmp_path / "curves"))
    _written(plots.plot_trend([trend], tmp_path / "trend", reference_points()))
    _written(plots.plot_history(history_info(trials, "val_accuracy", "max"), tmp_path / "history"))
    info = importance_info(trials, "val_accuracy", "max")
    assert set(info["importances"]) == {"scale.start", "scale.schedule", "optim.lr"}
    assert sum(info["importances"].values()) == pytest.approx(1.0)
    _written(plots.plot_importances(info, tmp_path / "importance"))
    groups = group_info(trials, "val_accuracy", "max")
    assert groups["groups"] == ["accuracy", "head_accuracy", "tail_accuracy"] and groups[
        "per_class"
    ]["classes"] == [0, 1, 2, 3]
    _written(plots.plot_groups(groups, tmp_path / "groups"))
    schedules = schedule_info(schedule_candidates(trials, "val_accuracy", "max"))
    assert schedules["curves"] and not schedules["skipped"]
    _written(plots.plot_schedules(schedules, tmp_path / "schedules"))


def test_schedule_curves_follow_the_phases(trials):
    linear = trials[trials["param:scale.schedule"] == "linear"].iloc[:1]
    (curve,) = schedule_info(linear)["curves"]
    scale = curve["scale"]
    per_epoch = len(scale) // 9  # 1 pre-training + 4 main + 4 additional epochs
    assert all(v is None for v in scale[:per_epoch])  # pre-training has no scale
    # main phase: constant start
    assert scale[per_epoch] == pytest.approx(linear["param:scale.start"].iloc[0])
    assert scale[-1] == pytest.approx(5.0)  # the additional phase decays to scale.end


def test_figures_with_too_little_data_still_draw(tmp_path):
    empty = synthetic_trials(class_counts=(10,), per_class=1)
    trend = scale_trend(empty.iloc[:0], n_boot=10)
    _written(plots.plot_scale_curves(trend, tmp_path / "curves"))
    _written(plots.plot_trend([trend], tmp_path / "trend"))
    info = importance_info(empty, "val_accuracy", "max")
    assert info["importances"] == {} and "need >= 2" in info["message"]
    _written(plots.plot_importances(info, tmp_path / "importance"))
