"""The law s*(C) = a ln(C - 1) + b over per-C vertices, and scale_trend on synthetic studies (no MLflow)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic_study import designed_trials, synthetic_trials

from analysis.trends import fit_law, law_over, scale_trend, scale_trials

COUNTS = np.array([17, 33, 65, 129, 257])


def test_the_law_recovers_a_b_and_gamma_with_honest_intervals():
    rng = np.random.default_rng(0)
    a, b = 1.8, -0.5
    sd = 0.05 * law(COUNTS, a, b) + 0.1
    hits = {"a": 0, "b": 0, "gamma": 0, "lof": 0}
    for _ in range(300):
        fit = fit_law(COUNTS, law(COUNTS, a, b) + rng.normal(0, sd), sd)
        hits["a"] += fit.a_ci[0] <= a <= fit.a_ci[1]
        hits["b"] += fit.b_ci[0] <= b <= fit.b_ci[1]
        hits["lof"] += fit.lack_of_fit_p < 0.05
    for name in ("a", "b"):
        assert 0.91 <= hits[name] / 300 <= 0.99, hits
    assert hits["lof"] / 300 <= 0.09  # the chi-square test holds its level when the law is true
    adacos = math.sqrt(2) * np.log(COUNTS - 1)
    for _ in range(300):
        fit = fit_law(
            COUNTS, 1.1 * adacos + rng.normal(0, 0.3, len(COUNTS)), np.full(len(COUNTS), 0.3)
        )
        hits["gamma"] += fit.gamma_ci[0] <= 1.1 <= fit.gamma_ci[1]
    assert 0.91 <= hits["gamma"] / 300 <= 0.99


def test_the_resolution_is_the_slope_difference_detected_with_90_percent_power():
    """resolution_a: a true slope that far from a0 puts a0 outside a's 95% interval in about 90% of
    studies (checked by simulation; a little less, since intervals are widened when the vertices
    scatter more than their sds allow), and it is (z_0.975 + z_0.9) times a's standard error."""
    rng = np.random.default_rng(1)
    sd = np.full(len(COUNTS), 0.4)
    first = fit_law(COUNTS, law(COUNTS, 1.0, 0.0), sd)
    se = (first.a_ci[1] - first.a_ci[0]) / (2 * 1.959964)
    assert first.resolution_a == pytest.approx((1.959964 + 1.281552) * se, rel=1e-4)
    truth = 1.0 + first.resolution_a
    rejected = 0
    for _ in range(400):
        fit = fit_law(COUNTS, law(COUNTS, truth, 0.0) + rng.normal(0, sd), sd)
        rejected += not fit.a_ci[0] <= 1.0 <= fit.a_ci[1]
    assert 0.8 <= rejected / 400 <= 0.95


def law(c, a, b):
    return a * np.log(np.asarray(c, dtype=float) - 1) + b


def test_exact_points_give_an_exact_fit_and_a_wrong_law_is_rejected():
    sd = np.full(len(COUNTS), 0.1)
    fit = fit_law(COUNTS, law(COUNTS, 2.0, 3.0), sd)
    assert (
        fit.a == pytest.approx(2.0)
        and fit.b == pytest.approx(3.0)
        and fit.chi2 == pytest.approx(0, abs=1e-9)
    )
    assert fit.a_ci[1] - fit.a_ci[0] == pytest.approx(
        2 * 1.959964 * 0.1 / np.std(np.log(COUNTS - 1)) / np.sqrt(5), rel=1e-4
    )
    band = fit.band
    assert all(lo <= f <= hi for lo, f, hi in zip(band["low"], band["fit"], band["high"]))
    curved = fit_law(COUNTS, 2.0 + 0.5 * np.log(COUNTS - 1) ** 2, sd)
    assert curved.lack_of_fit_p < 1e-6
    adacos = fit_law(COUNTS, math.sqrt(2) * np.log(COUNTS - 1), sd)
    assert adacos.gamma == pytest.approx(1.0) and adacos.gamma_lack_of_fit_p == pytest.approx(1.0)
    with pytest.raises(ValueError, match=">= 3 distinct class counts"):
        fit_law([10, 100], [5.0, 9.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="finite positive sd"):
        fit_law(COUNTS, law(COUNTS, 2, 3), np.zeros(5))


@pytest.fixture(scope="module")
def designed():
    return scale_trend(designed_trials(seed=3), experiment="designed", n_boot=50)


def test_scale_trend_on_a_designed_study_recovers_the_law(designed):
    fit = designed.fit
    assert fit is not None and fit.class_counts == list(COUNTS)
    assert fit.a_ci[0] <= math.sqrt(2) <= fit.a_ci[1] and fit.b_ci[0] <= 0 <= fit.b_ci[1]
    assert fit.gamma_ci[0] <= 1.0 <= fit.gamma_ci[1] and fit.a_ci[0] > 0
    assert designed.staged and designed.excluded == {
        "screen stage (it places the window; never fitted)": 40
    }
    assert (
        "s*(C) = " in designed.message
        and "gamma" in designed.message
        and "AdaCos" in designed.message
    )
    for o in designed.optima:
        assert o.interior and o.model == "split" and len(o.seeds) == 3 and o.trials == 21
        assert o.ci[0] < o.scale < o.ci[1]
    assert [c["num_classes"] for c in designed.cross_check] == list(COUNTS)


def test_the_json_holds_vertices_law_gamma_and_lack_of_fit(designed):
    out = designed.to_dict()
    for o in out["optima"]:
        assert {
            "scale",
            "ci",
            "ci_low",
            "ci_high",
            "sd",
            "lack_of_fit_p",
            "lack_of_fit_p_model",
            "interior",
            "reason",
            "curvature",
            "curvature_ci",
            "model",
            "warnings",
        } <= set(o) and "points" not in o
    assert {
        "a",
        "b",
        "a_ci",
        "b_ci",
        "gamma",
        "gamma_ci",
        "lack_of_fit_p",
        "chi2",
        "df",
        "gamma_lack_of_fit_p",
    } <= set(out["fit"])
    assert "band" not in out["fit"] and "band" in designed.to_dict(curves=True)["fit"]
    assert out["adacos"]["gamma"] == 1.0 and "different metric" in out["reference_note"]


def test_too_few_interior_vertices_give_the_table_and_one_line():
    two = scale_trend(designed_trials(class_counts=(17, 129), seed=1), n_boot=20)
    assert two.fit is None and len(two.optima) == 2 and all(o.interior for o in two.optima)
    assert (
        two.message.startswith("law not fitted: 2 of 2 class count(s) have an interior vertex")
        and "\n" not in two.message
    )
    flat = designed_trials(class_counts=(17, 33, 65), curvature=0.0, seed=2)
    result = scale_trend(flat, n_boot=20)
    assert result.fit is None and "law not fitted" in result.message
    assert any("reaches 0" in o.reason or "unbounded" in o.reason for o in result.optima)
    fit, message = law_over([])
    assert fit is None and "0 of 0" in message


def test_an_adaptive_user_study_is_fitted_with_warnings():
    result = scale_trend(
        synthetic_trials(class_counts=(10, 40, 160), per_class=30, seed=2), n_boot=50
    )
    assert [o.num_classes for o in result.optima] == [10, 40, 160] and not result.staged
    assert all(any("no seed recorded" in w for w in o.warnings) for o in result.optima)
    assert result.fit is not None  # 30 trials per C on a clean peak: enough, despite the design


def test_seeded_cross_check_is_reproducible_and_minimising_mirrors_maximising():
    trials = designed_trials(class_counts=(17, 65, 257), seed=4)
    assert (
        scale_trend(trials, n_boot=100, seed=7).to_dict()
        == scale_trend(trials, n_boot=100, seed=7).to_dict()
    )
    trials["metric:val_loss"] = 1.0 - trials["metric:val_accuracy"]
    low = scale_trend(trials, "val_loss", "min", n_boot=20)
    high = scale_trend(trials, "val_accuracy", "max", n_boot=20)
    assert [o.scale for o in low.optima] == pytest.approx([o.scale for o in high.optima])
    assert low.fit.a == pytest.approx(high.fit.a)


def test_trials_that_do_not_speak_to_the_scale_are_left_out_with_reasons():
    trials = synthetic_trials(class_counts=(10, 20, 40), per_class=5)
    trials.loc[0, "param:loss.output"] = "ce"
    trials.loc[1, "param:scale.schedule"] = "linear"
    trials.loc[2, "status"] = "FAILED"
    trials.loc[3, "tag:trial_status"] = "stopped_early"
    trials.loc[4, "param:data.num_classes"] = 0
    kept, excluded = scale_trials(trials, "val_accuracy")
    assert len(kept) == len(trials) - 5
    assert sum(excluded.values()) == 5 and len(excluded) == 5
    empty = scale_trend(trials.iloc[:0], n_boot=10)
    assert empty.optima == [] and empty.fit is None and "no finished trial" in empty.message


def test_the_printed_table_gives_the_fitted_models_lack_of_fit():
    """`study trend`'s LOF p column is the test of the model it fitted (the split parabola), not the
    quadratic's that the JSON keeps beside it."""
    from study.analysis_commands import trend_lines

    trend = scale_trend(designed_trials(seed=3, asymmetry=0.4), experiment="designed", n_boot=20)
    rows = {
        line.split()[0]: line.split()
        for line in trend_lines(trend)[2:]
        if line[:8].strip().isdigit()
    }
    checked = 0
    for o in trend.optima:
        assert o.model == "split"
        row = rows[str(o.num_classes)]
        printed = float(row[8] if o.interior else row[7])  # "-" in place of s* and its interval
        assert printed == pytest.approx(o.lack_of_fit_p_model, rel=0.05, abs=1e-3)
        checked += not math.isclose(o.lack_of_fit_p_model, o.lack_of_fit_p, rel_tol=0.05)
    assert checked, "no C where the two tests differ: the check would not tell them apart"
