"""Trend fitting on synthetic studies with a known law s*(C) = 2 ln(C - 1) + 3 (no MLflow)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic_study import CLASS_COUNTS, TRUE_A, TRUE_B, synthetic_trials, true_optimum

from analysis.trends import fit_law, scale_trend, scale_trials


@pytest.fixture(scope="module")
def trend():
    return scale_trend(synthetic_trials(), "val_accuracy", "max", experiment="synthetic", n_boot=400, seed=0)


def test_fit_recovers_a_and_b_within_their_intervals(trend):
    fit = trend.fit
    assert fit is not None and fit.n_points == len(CLASS_COUNTS)
    assert fit.a == pytest.approx(TRUE_A, abs=0.4) and fit.b == pytest.approx(TRUE_B, abs=1.2)
    assert fit.a_ci[0] <= TRUE_A <= fit.a_ci[1] and fit.b_ci[0] <= TRUE_B <= fit.b_ci[1]
    assert fit.a_ci_bootstrap[0] <= TRUE_A <= fit.a_ci_bootstrap[1]
    assert fit.b_ci_bootstrap[0] <= TRUE_B <= fit.b_ci_bootstrap[1]
    assert fit.r2 > 0.9
    band = fit.band
    assert all(lo <= f <= hi for lo, f, hi in zip(band["low"], band["fit"], band["high"]))


def test_bootstrap_intervals_cover_the_true_optimum(trend):
    covered = [o.ci_low <= true_optimum(o.num_classes) <= o.ci_high for o in trend.optima]
    assert [o.num_classes for o in trend.optima] == list(CLASS_COUNTS)
    assert sum(covered) >= len(covered) - 1  # 95% intervals: allow one miss in six
    for o in trend.optima:
        assert o.scale == pytest.approx(true_optimum(o.num_classes), rel=0.25)
        assert o.adacos_scale == pytest.approx(math.sqrt(2) * math.log(o.num_classes - 1))
        assert o.ci_low <= o.scale <= o.ci_high and not o.at_edge


def test_seeded_bootstrap_is_reproducible():
    trials = synthetic_trials(class_counts=(5, 50, 200), per_class=15, seed=3)
    one = scale_trend(trials, n_boot=100, seed=7).to_dict()
    two = scale_trend(trials, n_boot=100, seed=7).to_dict()
    assert one == two


def test_exact_points_give_an_exact_fit():
    c = np.array([5, 10, 100, 1000])
    fit = fit_law(c, TRUE_A * np.log(c - 1) + TRUE_B)
    assert fit.a == pytest.approx(TRUE_A) and fit.b == pytest.approx(TRUE_B) and fit.r2 == pytest.approx(1.0)
    with pytest.raises(ValueError, match=">= 3 distinct class counts"):
        fit_law([10, 100], [5.0, 9.0])


def test_two_class_counts_report_the_points_only():
    result = scale_trend(synthetic_trials(class_counts=(10, 100), per_class=10), n_boot=50)
    assert result.fit is None and len(result.optima) == 2
    assert "needs >= 3" in result.message and "C = 10, 100" in result.message
    assert result.to_dict()["fit"] is None


def test_minimized_metric_finds_the_same_optimum():
    trials = synthetic_trials(class_counts=(10, 50, 200), per_class=30, seed=2)
    trials["metric:val_loss"] = 1.0 - trials["metric:val_accuracy"]
    low = scale_trend(trials, "val_loss", "min", n_boot=50)
    high = scale_trend(trials, "val_accuracy", "max", n_boot=50)
    assert [o.scale for o in low.optima] == pytest.approx([o.scale for o in high.optima])


def test_trials_that_do_not_speak_to_the_scale_are_left_out_with_reasons():
    trials = synthetic_trials(class_counts=(10, 20, 40), per_class=5)
    trials.loc[0, "param:loss.output"] = "ce"
    trials.loc[1, "param:scale.schedule"] = "linear"
    trials.loc[2, "status"] = "FAILED"
    trials.loc[3, "tag:trial_status"] = "failed"
    trials.loc[4, "param:data.num_classes"] = 0
    kept, excluded = scale_trials(trials, "val_accuracy")
    assert len(kept) == len(trials) - 5
    assert sum(excluded.values()) == 5 and len(excluded) == 5
    empty = scale_trend(trials.iloc[:0], n_boot=10)
    assert empty.optima == [] and empty.fit is None and "no trial" in empty.message
