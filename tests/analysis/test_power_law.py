"""The power-law form of the trend, s*(C) = c (C - 1)^k, by hand-built vertices and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synthetic_study import designed_trials

from analysis.power_law import fit_power_law, power_law_line
from analysis.trends import fit_law, scale_trend

COUNTS = np.array([33, 55, 92, 153, 257])
Z = 1.959964


def intervals(scales, sd_ln):
    """A vertex's 95% interval with sd ``sd_ln`` in ln s, as analysis.response gives it."""
    scales = np.asarray(scales, dtype=float)
    return scales * np.exp(-Z * sd_ln), scales * np.exp(Z * sd_ln)


def test_exact_power_law_vertices_give_the_law_back():
    scales = 0.5 * (COUNTS - 1.0) ** 0.6
    low, high = intervals(scales, np.full(5, 0.05))
    fit = fit_power_law(COUNTS, low, high, scales)
    assert fit.k == pytest.approx(0.6, abs=1e-9) and fit.c == pytest.approx(0.5, rel=1e-9)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12) and fit.lack_of_fit_p == pytest.approx(1.0)
    assert fit.scale_factor == 1.0
    # k's interval from the known sds: se(k) = sd / sqrt(sum (x - mean x)^2) with equal sds
    x = np.log(COUNTS - 1.0)
    se = 0.05 / math.sqrt(np.sum((x - x.mean()) ** 2))
    assert fit.k_ci == pytest.approx((0.6 - Z * se, 0.6 + Z * se), rel=1e-5)
    assert "0.5 (C - 1)^0.6" in power_law_line(fit) and "p = 1" in power_law_line(fit)


def test_each_form_rejects_the_other_when_the_vertices_are_precise():
    """Vertices on AdaCos's straight law fail the power law's lack-of-fit test, and vertices on a
    power law fail the straight law's: the two tests tell the forms apart."""
    sd_ln = np.full(5, 0.01)
    straight = 2.0 * np.log(COUNTS - 1.0) - 2.0
    low, high = intervals(straight, sd_ln)
    assert fit_power_law(COUNTS, low, high, straight).lack_of_fit_p < 1e-3
    assert fit_law(COUNTS, straight, straight * 0.01).lack_of_fit_p > 0.99
    power = 0.4 * (COUNTS - 1.0) ** 0.65
    low, high = intervals(power, sd_ln)
    assert fit_power_law(COUNTS, low, high, power).lack_of_fit_p > 0.99
    assert fit_law(COUNTS, power, power * 0.01).lack_of_fit_p < 1e-3


def test_k_s_interval_covers_the_truth_in_about_95_percent_of_studies():
    rng = np.random.default_rng(3)
    sd_ln = np.array([0.1, 0.08, 0.06, 0.04, 0.05])
    truth = 0.45 * (COUNTS - 1.0) ** 0.65
    hits = 0
    for _ in range(400):
        scales = truth * np.exp(rng.normal(0.0, sd_ln))
        low, high = intervals(scales, sd_ln)
        fit = fit_power_law(COUNTS, low, high, scales)
        hits += fit.k_ci[0] <= 0.65 <= fit.k_ci[1]
    assert 0.92 <= hits / 400 <= 0.99


def test_study_trend_reports_both_forms_and_finds_the_power_law_it_was_given():
    """A designed study whose optima follow s* = 0.4 (C - 1)^0.65: scale_trend fits the power law
    (k's interval holds 0.65) beside the straight law, and both go to the JSON."""
    trials = designed_trials(optimum=lambda c: 0.4 * (c - 1) ** 0.65, seed=5)
    trend = scale_trend(trials, experiment="designed", n_boot=20)
    assert trend.fit is not None and trend.power_law is not None
    assert trend.power_law.k_ci[0] <= 0.65 <= trend.power_law.k_ci[1]
    data = trend.to_dict()
    assert {"k", "k_ci", "c", "c_ci", "lack_of_fit_p", "chi2", "df"} <= set(data["power_law"])
    assert "band" not in data["power_law"] and "band" in trend.to_dict(curves=True)["power_law"]
    assert data["power_law"]["n_points"] == data["fit"]["n_points"]
