"""The per-C response estimator on simulated curves with a known vertex (no MLflow)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from synthetic_study import designed_trials, peak

from analysis.response import LOCAL_SHARE, class_responses, fit_response, scale_trials


def _curve(
    rng,
    star=1.6,
    *,
    offset=0.0,
    curvature=0.05,
    asymmetry=1.0,
    noise=0.01,
    seed_effect=0.01,
    points=7,
    half_width=1.0,
    seeds=3,
    shape=peak,
):
    """One C's estimation stage: ``points`` scales x ``seeds`` seed blocks around ln s* + offset."""
    x = np.tile(np.linspace(-half_width, half_width, points) + star + offset, seeds)
    blocks = np.repeat(np.arange(seeds), points)
    y = (
        shape(x, star, curvature, asymmetry)
        + rng.normal(0, seed_effect, seeds)[blocks]
        + rng.normal(0, noise, len(x))
    )
    return np.exp(x), y, blocks


SHAPES = {
    "symmetric": {},
    "asymmetric, flat above": {"asymmetry": 0.5},
    "asymmetric, flat below": {"asymmetry": 2.0},
    "off-centre window": {"offset": -0.3, "asymmetry": 0.7},
}


@pytest.mark.parametrize("model", ["auto", "cubic"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_vertex_intervals_cover_the_true_optimum(shape, model):
    rng = np.random.default_rng(sum(map(ord, shape)))
    star = 1.6
    covered, inside, errors = 0, 0, []
    for _ in range(100):
        r = fit_response(
            *_curve(rng, star, **SHAPES[shape]), num_classes=33, curve=False, model=model
        )
        if r.interior:
            inside += 1
            covered += r.ci[0] <= math.exp(star) <= r.ci[1]
            errors.append(math.log(r.scale) - star)
    # the split parabola (auto) asks both sides for a curvature: with the window off-centre, the short flat side
    # (0.7 ln units) often cannot show one, and the vertex is then not called interior; and in about
    # a quarter of curves (p < 0.25 by chance) its interval rests on a lack-of-fit error of 3 df
    assert inside >= 45, f"{shape}: only {inside} of 100 curves had an interior vertex"
    assert covered / inside >= 0.85, (
        f"{shape}: 95% intervals covered the truth in {covered}/{inside}"
    )
    assert abs(np.median(errors)) < 0.1


def test_the_quadratic_misses_an_asymmetric_peak_that_the_cubic_and_the_split_parabola_find():
    """Why the default is not the quadratic with >= 5 levels: its vertex leans to the flat side."""
    rng = np.random.default_rng(5)
    hits = {"quadratic": 0, "cubic": 0, "auto": 0}
    for _ in range(60):
        data = _curve(rng, asymmetry=0.4, noise=0.004)
        for model in hits:
            r = fit_response(*data, num_classes=33, curve=False, model=model)
            assert model != "auto" or r.model == "split"
            hits[model] += r.interior and r.ci[0] <= math.exp(1.6) <= r.ci[1]
    # the cubic is not exact on a kink
    assert hits["auto"] >= 50 and hits["cubic"] >= 40 and hits["quadratic"] <= 10, hits


def test_design_matrix_fit_equals_the_statsmodels_formula():
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(1)
    s, y, blocks = _curve(rng, noise=0.01)
    r = fit_response(s, y, blocks, num_classes=33, model="quadratic")
    frame = pd.DataFrame(
        {
            "y": y,
            "seed": blocks,
            "d": np.log(s) - 0.5 * (np.log(s).min() + np.log(s).max()),
            "level": np.round(np.log(s), 6),
        }
    )
    quad = smf.ols("y ~ C(seed) + d + I(d**2)", frame).fit()
    saturated = smf.ols("y ~ C(seed) + C(level)", frame).fit()
    b1, b2 = quad.params["d"], quad.params["I(d ** 2)"]
    centre = 0.5 * (np.log(s).min() + np.log(s).max())
    assert r.scale == pytest.approx(math.exp(centre - b1 / (2 * b2)))
    assert r.curvature == pytest.approx(2 * b2)
    assert r.curvature_ci[1] - r.curvature == pytest.approx(
        2 * (quad.conf_int().loc["I(d ** 2)", 1] - b2)
    )
    assert r.lack_of_fit_p == pytest.approx(anova_lm(quad, saturated)["Pr(>F)"].iloc[1])
    assert r.residual_sd == pytest.approx(math.sqrt(quad.mse_resid))


def test_a_monotone_curve_has_no_interior_maximum():
    rng = np.random.default_rng(2)
    x = np.tile(np.linspace(0.0, 2.0, 7), 3)
    blocks = np.repeat(np.arange(3), 7)
    r = fit_response(
        np.exp(x), 0.8 + 0.03 * x + rng.normal(0, 0.005, len(x)), blocks, num_classes=17
    )
    assert not r.interior and r.reason
    assert math.isnan(r.scale) or not r.interior
    rising = fit_response(
        np.exp(x),
        0.8 + 0.05 * x - 0.005 * x**2 + rng.normal(0, 0.003, len(x)),
        blocks,
        num_classes=17,
    )
    # gently concave, still rising: the vertex lies beyond the scales
    assert not rising.interior and rising.reason


def test_a_flat_curve_has_no_interior_maximum():
    rng = np.random.default_rng(3)
    s, y, blocks = _curve(rng, curvature=0.0, noise=0.01)
    r = fit_response(s, y, blocks, num_classes=17)
    assert not r.interior


def test_lack_of_fit_picks_the_cubic_on_a_clearly_cubic_curve():
    rng = np.random.default_rng(4)
    x = np.tile(np.linspace(-1.5, 1.5, 7), 3)
    blocks = np.repeat(np.arange(3), 7)
    y = 0.9 + 0.02 * x - 0.04 * x**2 - 0.03 * x**3 + rng.normal(0, 0.002, len(x))
    r = fit_response(np.exp(x), y, blocks, num_classes=17, model="lack-of-fit")
    assert r.model == "cubic" and r.lack_of_fit_p < 0.05
    assert r.lack_of_fit_p_model > 0.05
    # the true vertex: f'(x) = 0.02 - 0.08 x - 0.09 x^2 = 0 on the concave side
    true = max(np.roots([-0.09, -0.08, 0.02]))
    assert r.interior and r.ci[0] <= math.exp(true) <= r.ci[1]
    symmetric = fit_response(*_curve(rng, noise=0.002), num_classes=17, model="lack-of-fit")
    assert symmetric.model == "quadratic" and symmetric.lack_of_fit_p > 0.05


def test_a_metric_to_minimise_finds_the_minimum():
    rng = np.random.default_rng(6)
    s, y, blocks = _curve(rng)
    high = fit_response(s, y, blocks, num_classes=17)
    low = fit_response(s, 1.0 - y, blocks, num_classes=17, mode="min")
    assert (
        low.interior and low.scale == pytest.approx(high.scale) and low.ci == pytest.approx(high.ci)
    )
    assert low.curvature == pytest.approx(-high.curvature)


def test_thin_data_is_reported_not_raised():
    two = fit_response([1.0, 2.0, 1.0, 2.0], [0.5, 0.6, 0.5, 0.6], [0, 0, 1, 1], num_classes=10)
    assert (
        not two.interior
        and "a curve needs >= 3" in two.reason
        and "fewer than 3 scale levels" in two.warnings
    )
    three = fit_response([1.0, 2.0, 4.0], [0.5, 0.7, 0.6], None, num_classes=10)
    assert not three.interior and "no residual degrees of freedom" in three.reason
    assert "no seed recorded: no seed blocks" in three.warnings
    empty = fit_response([], [], None, num_classes=10)
    assert not empty.interior and empty.trials == 0


def test_a_staged_study_fits_only_the_estimation_stage():
    trials = designed_trials(class_counts=(17, 65), seed=1)
    trials.loc[trials.index[-1], "tag:trial_status"] = "stopped_early"
    kept, excluded = scale_trials(trials, "val_accuracy")
    assert set(kept["tag:stage"]) == {"estimate"} and "stopped_early" not in set(
        kept["tag:trial_status"]
    )
    assert excluded["screen stage (it places the window; never fitted)"] == 16
    assert sum(v for k, v in excluded.items() if k.startswith("trial status")) == 1
    responses, _ = class_responses(trials)
    assert [r.num_classes for r in responses] == [17, 65]
    assert responses[0].trials == 21 and responses[1].trials == 20 and len(responses[0].seeds) == 3
    assert all(r.interior and r.model == "split" for r in responses)
    unbalanced, stopped = responses[1].warnings  # the trial stopped early at C = 65
    assert unbalanced == "unbalanced: not every seed ran at every scale"
    assert stopped.startswith("1 of the 21 trials at this class count were stopped early")
    assert responses[0].warnings == []
    assert (
        responses[0].points["run_id"][0].startswith("run-")
        and len(responses[0].curve["scale"]) > 10
    )


def test_an_adaptive_single_seed_study_gets_honest_warnings():
    rng = np.random.default_rng(7)
    s = np.exp(rng.uniform(0, math.log(64), 12))
    trials = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(12)],
            "status": "FINISHED",
            "param:scale.start": s,
            "param:data.num_classes": 20,
            "param:train.seed": 0,
            "param:optim.lr": rng.uniform(0.01, 0.1, 12),
            # changes what a trial reports, not what it learns: not a confounder
            "param:train.gradcam_images": [16] * 6 + [0] * 6,
            "metric:val_accuracy": peak(np.log(s), math.log(5.0)) + rng.normal(0, 0.003, 12),
            "tag:trial_status": "finished",
        }
    )
    (r,), _ = class_responses(trials)
    text = " | ".join(r.warnings)
    assert "adaptive sampler: scales were not designed" in text
    assert "one seed: no seed blocks" in text and "no replicated scale levels" in text
    assert "also varied within this C: optim.lr (" in text


# --- the split parabola: a curvature of its own on each side of a profiled vertex --------------------


def _smooth_peak(log_s, log_star, curvature=0.05, asymmetry=0.5, top=0.9, width=0.5):
    """An asymmetric peak with no corner: the curvature passes from steep to flat by a logistic in u."""
    u = np.asarray(log_s, dtype=float) - log_star
    return top - curvature * (1 + (asymmetry - 1) / (1 + np.exp(-u / width))) * u**2


@pytest.mark.parametrize("shape", [peak, _smooth_peak], ids=["kinked", "smooth"])
def test_the_split_parabola_covers_the_vertex_of_an_asymmetric_peak(shape):
    """The main job's window (+-1.5 ln units, 9 scales, 3 seeds) on a peak twice as steep below as above."""
    rng = np.random.default_rng(11)
    star, covered, inside, errors = 1.6, 0, 0, []
    for _ in range(100):
        data = _curve(
            rng,
            star,
            offset=rng.normal(0, 0.2),
            asymmetry=0.5,
            points=9,
            half_width=1.5,
            noise=0.012,
            shape=shape,
        )
        r = fit_response(*data, num_classes=33, curve=False, model="split")
        assert r.model == "split"
        if r.interior:
            inside += 1
            covered += r.ci[0] <= math.exp(star) <= r.ci[1]
            errors.append(math.log(r.scale) - star)
    assert inside >= 90, inside
    assert covered / inside >= 0.85, f"95% intervals covered the truth in {covered}/{inside}"
    assert abs(np.median(errors)) < 0.06


def test_the_split_interval_inverts_the_profile_f_test():
    """At each end of the interval, RSS(v) exceeds RSS(v-hat) by F(0.95; 1, n - p) x RSS(v-hat) / (n - p)."""
    from scipy import stats
    from statsmodels.regression.linear_model import OLS

    from analysis.split_peak import design

    rng = np.random.default_rng(12)
    s, y, blocks = _curve(rng, asymmetry=0.5, points=9, half_width=1.5, noise=0.01)
    r = fit_response(s, y, blocks, num_classes=33, model="split-parabola")
    assert r.interior and r.ci[0] < r.scale < r.ci[1] and r.exponent == 2.0
    d = np.log(s) - 0.5 * (np.log(s).min() + np.log(s).max())
    centre = 0.5 * (np.log(s).min() + np.log(s).max())
    rss = lambda v: OLS(y, design(d, v, blocks, 3)).fit().ssr  # noqa: E731
    df = len(y) - (3 + 3)  # seed effects, two curvatures, the vertex
    best = rss(math.log(r.scale) - centre)
    critical = float(stats.f.ppf(0.95, 1, df))
    for end in r.ci:
        assert (rss(math.log(end) - centre) - best) / (best / df) == pytest.approx(
            critical, rel=0.02
        )
    assert r.residual_sd == pytest.approx(math.sqrt(best / df))
    below, above = r.side_curvatures["below"], r.side_curvatures["above"]
    assert below[2] < 0 and above[2] < 0 and below[0] < above[0]  # steep below, flatter above
    assert r.sd == pytest.approx((r.ci[1] - r.ci[0]) / (2 * 1.959964), rel=1e-4)


def test_a_split_parabola_that_lacks_fit_takes_its_error_from_the_level_means():
    """16 seeds and deviations of each scale level from the curve that every seed shares (what a
    curve that is not quite a split parabola leaves): the pure error is small, the lack-of-fit test
    rejects, and the interval is then the one the level means give on their own residual variance
    (a random effect per level), wider than the residual mean square would make it."""
    from analysis.split_peak import fit_split

    rng = np.random.default_rng(21)
    s, y, blocks = _curve(rng, asymmetry=0.5, points=9, half_width=1.0, seeds=16, noise=0.004)
    level = np.searchsorted(np.unique(s), s)
    y = y + rng.normal(0, 0.004, 9)[level]
    r = fit_response(s, y, blocks, num_classes=33, model="split-parabola")
    assert r.model == "split-parabola" and r.lack_of_fit_p_model < 0.01 and r.interior
    assert any("lack-of-fit mean square on 5 df" in w for w in r.warnings)
    x = np.log(s)
    d = x - 0.5 * (x.min() + x.max())
    means = pd.Series(y).groupby(level).mean().to_numpy()
    d_levels = np.unique(d)
    on_means = fit_split(means, d_levels, np.zeros(9, dtype=int), 1)
    centre = 0.5 * (x.min() + x.max())
    assert math.log(r.scale) - centre == pytest.approx(on_means.vertex, abs=1e-4)
    assert [math.log(end) - centre for end in r.ci] == pytest.approx(list(on_means.ci), abs=2e-3)
    pooled = fit_split(y, d, blocks, 16)  # the residual mean square: far narrower
    assert pooled.ci[1] - pooled.ci[0] < 0.6 * (on_means.ci[1] - on_means.ci[0])


def test_the_split_peak_profiles_its_exponent_and_inverts_the_f_test_over_it():
    """A peak sharper than a parabola (|u|^1.4, as the main job's real peaks): the exponent comes
    out near 1.4, the vertex's interval covers the truth, and at its ends the smallest RSS over
    the exponents exceeds RSS(v-hat) by F(0.95; 1, n - q) x RSS(v-hat) / (n - q), q = blocks + 4."""
    from scipy import stats

    from analysis.response import SPLIT_EXPONENTS
    from analysis.split_peak import _profile

    rng = np.random.default_rng(31)
    x = np.tile(np.linspace(-2.0, 2.0, 9) + 1.6, 8)
    blocks = np.repeat(np.arange(8), 9)
    u = x - 1.6
    y = 0.9 - 0.04 * np.abs(u) ** 1.4 * np.where(u < 0, 1.0, 0.6)
    y = y + rng.normal(0, 0.01, 8)[blocks] + rng.normal(0, 0.004, len(x))
    r = fit_response(np.exp(x), y, blocks, num_classes=33, model="split")
    assert r.model == "split" and r.interior and abs(r.exponent - 1.4) <= 0.25
    assert r.ci[0] <= math.exp(1.6) <= r.ci[1]
    centre = 0.5 * (x.min() + x.max())
    d = x - centre
    ends = np.array([math.log(end) - centre for end in r.ci])
    best, _ = _profile(
        y, d, blocks, 8, np.array([math.log(r.scale) - centre]), SPLIT_EXPONENTS["split"]
    )
    at_ends, _ = _profile(y, d, blocks, 8, ends, SPLIT_EXPONENTS["split"])
    df = len(y) - (8 + 4)
    critical = float(stats.f.ppf(0.95, 1, df))
    assert (at_ends - best[0]) / (best[0] / df) == pytest.approx([critical] * 2, rel=0.05)


def test_the_split_parabola_finds_no_maximum_on_a_monotone_or_flat_curve():
    rng = np.random.default_rng(13)
    x = np.tile(np.linspace(0.0, 3.0, 9), 3)
    blocks = np.repeat(np.arange(3), 9)
    rising = fit_response(
        np.exp(x),
        0.8 + 0.03 * x + rng.normal(0, 0.005, len(x)),
        blocks,
        num_classes=17,
        model="split",
    )
    assert not rising.interior and rising.model == "split"
    assert "edge of the scanned scales" in rising.reason or "reaches 0" in rising.reason
    concave = fit_response(
        np.exp(x),
        0.8 + 0.05 * x - 0.005 * x**2 + rng.normal(0, 0.003, len(x)),
        blocks,
        num_classes=17,
        model="split",
    )
    assert not concave.interior  # still rising at the last scale
    flat = fit_response(
        *_curve(rng, curvature=0.0, points=9, half_width=1.5), num_classes=17, model="split"
    )
    assert not flat.interior and flat.reason


def test_the_split_parabola_needs_five_levels_and_falls_back_to_the_quadratic():
    rng = np.random.default_rng(14)
    r = fit_response(*_curve(rng, points=4), num_classes=17, model="split")
    assert r.model == "quadratic" and not r.side_curvatures
    minimum = fit_response(
        *(lambda s, y, b: (s, 1.0 - y, b))(*_curve(rng, points=9, half_width=1.5)),
        num_classes=17,
        model="split",
        mode="min",
    )
    assert minimum.model == "split" and minimum.interior and minimum.curvature > 0


def test_the_split_parabola_is_fitted_near_the_peak_where_accuracy_saturates(monkeypatch):
    """Far from the peak accuracy levels off towards chance (1/C), which no parabola follows: the
    split parabola is fitted on the levels within LOCAL_SHARE of the peak's depth above chance.
    Simulated at C = 257 with the peak the main job measured there (top 0.51, the curve falling
    4.6 times faster above the optimum than below), through the cpu design's own screen and window:
    the local fit's vertex is unbiased and its intervals hold the truth; the split parabola fitted
    over the whole window pulls the vertex down by about 0.2 ln units (its lack-of-fit error widens
    its intervals enough to hide that). The default split peak, fitted on the whole window, leans
    too where this steep side reaches chance inside the window (about -0.15 ln units: its
    exponent cannot follow the floor), but its lack-of-fit rule keeps its intervals covering. The
    real peaks stay far above chance in their windows (C = 257: 0.26 at the lowest)."""
    import dataclasses
    import functools

    import analysis.power as power
    from study.presets.scale_vs_classes import MEASURED_PEAKS, design

    measured = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in MEASURED_PEAKS["cpu"].items()}
    one = dataclasses.replace(design("cpu"), class_counts=(257,))
    coverage, bias = {}, {}
    truth = power.Truth(**{**measured, "exponent": 2.0, "asymmetry": 4.59})  # as measured by p = 2
    for model, share in [("split-parabola", LOCAL_SHARE), ("split-parabola", 1.0), ("split", 1.0)]:
        monkeypatch.setattr(
            power, "fit_response", functools.partial(fit_response, local_share=share)
        )
        result = power.simulate(one, truth, studies=60, seed=5, model=model)
        coverage[model, share] = result.per_class[0]["coverage"]
        bias[model, share] = result.per_class[0]["median_error_ln"]
    local, whole = ("split-parabola", LOCAL_SHARE), ("split-parabola", 1.0)
    assert coverage[local] >= 0.88, coverage
    assert abs(bias[local]) < 0.06 and bias[whole] < -0.15, bias
    assert abs(bias["split", 1.0]) < 0.25 and coverage["split", 1.0] >= 0.9, (bias, coverage)
