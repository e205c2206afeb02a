"""`study power`: the simulated two-stage design run through the real estimator."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from analysis.power import Truth, simulate
from search_spaces.scale_design import ScaleDesign
from study.cli import main

DESIGN = ScaleDesign(
    class_counts=(17, 33, 65, 129, 257),
    screen_scales=tuple(np.geomspace(0.5, 64, 8)),
    screen_fraction=1 / 3,
    window_points=7,
    window_half_width=1.0,
    seeds=(0, 1, 2),
)


def test_a_strong_clean_signal_is_detected_and_covered():
    truth = Truth(
        curvature=0.1, asymmetry=1.0, train_noise=0.003, seed_effect=0.01, val_per_class=400
    )
    r = simulate(DESIGN, truth, studies=15, seed=1)
    assert r.law_fitted == 1.0 and r.power == 1.0
    assert r.coverage_a >= 0.8 and r.coverage_gamma >= 0.8 and r.median_width_a < 1.0
    assert abs(r.median_a - truth.a) < 0.3 and abs(r.median_gamma - 1.0) < 0.1
    assert [p["num_classes"] for p in r.per_class] == list(DESIGN.class_counts)
    for p in r.per_class:
        assert p["interior"] >= 0.9
        low, high = p["window_accuracy"]
        # the window straddles the peak
        assert high == pytest.approx(0.9, abs=0.005) and 0.75 < low < high - 0.05
        assert p["drop_over_noise"] > 3
        # the vertex's median interval width with its Monte-Carlo interval, over 15 studies
        low, high = p["median_width_ln_interval"]
        assert low <= p["median_width_ln"] <= high and p["coverage_studies"] >= 14


def test_a_flat_law_is_rarely_called_a_trend():
    """a = 0: the share of studies whose a has a lower 95% bound above 0 stays near the one-sided 2.5% level."""
    r = simulate(DESIGN, Truth(a=0.0, b=5.0, curvature=0.08), studies=40, seed=2)
    assert r.law_fitted >= 0.8
    assert r.power <= 0.1 and r.coverage_gamma is None and r.coverage_b >= 0.8


def test_the_same_seed_gives_the_same_simulation():
    one = simulate(DESIGN, Truth(), studies=4, seed=3).to_dict()
    two = simulate(DESIGN, Truth(), studies=4, seed=3).to_dict()
    one.pop("seconds"), two.pop("seconds")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)  # NaN == NaN here


def test_study_power_prints_and_writes_the_numbers(tmp_path, capsys):
    out = tmp_path / "power.json"
    assert main(["power", "--studies", "4", "--seed", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for phrase in (
        "power to detect a > 0",
        "coverage of a's 95% interval",
        "median width of a's 95% interval",
        "of gamma's",
        "interior",
        "accuracy",
    ):
        assert phrase in text
    # every Monte-Carlo share the estimator is judged by carries its Wilson interval
    assert re.search(r"power to detect a > 0 .*: \d\.\d\d \[\d\.\d\d, \d\.\d\d\]", text)
    assert re.search(r"coverage of a's 95% interval: \d\.\d\d \[\d\.\d\d, \d\.\d\d\]", text)
    # and the median width its order-statistic interval (n/a: 4 studies cannot bound it at 95%)
    assert re.search(r"median width of a's 95% interval: [\d.]+ \[n/a, n/a\]", text)
    # per class count too: the vertices' coverage (Wilson) and median width (n/a over 4 studies)
    assert re.search(
        r"C=\d+ .*coverage \d\.\d\d \[\d\.\d\d, \d\.\d\d\]  width [\d.]+ \[n/a, n/a\]", text
    )
    data = json.loads(out.read_text())
    assert data["preset"] == "scale-vs-classes" and data["studies"] == 4 and data["model"] == "auto"
    assert {
        "power",
        "coverage_a",
        "coverage_b",
        "coverage_gamma",
        "median_width_a",
        "law_fitted",
        "law_rejected",
    } <= set(data)
    assert data["design"]["class_counts"] and len(data["per_class"]) == len(
        data["design"]["class_counts"]
    )
    assert {
        "interior",
        "coverage",
        "window_accuracy",
        "observed_accuracy",
        "drop_over_noise",
    } <= set(data["per_class"][0])


def test_study_power_on_the_smoke_design_with_a_quadratic(capsys):
    assert (
        main(["power", "--size", "smoke", "--studies", "3", "--top-accuracy", "0.95,0.9,0.85"]) == 0
    )
    assert "estimator model: auto" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--top-accuracy", "1.5"], "expected each an accuracy in (0, 1]"),
        (["--top-accuracy", "0.9,0.8"], "give one value or"),
        (["--preset", "basics"], "no two-stage scale design"),
        (["--curvature", "0"], "expected each value positive"),
        (["--shape", "round"], "invalid choice"),
        (["--val-per-class", "25,25"], "--val-per-class 25,25: give one value or 5"),
        (["--val-per-class", "2.5"], "expected each a whole number >= 1"),
        (["--a", "-5"], "expected a positive optimum scale"),
    ],
)
def test_study_power_bad_input_is_one_line(argv, match, capsys):
    try:
        code = main(["power", "--studies", "2", *argv])
    except SystemExit as exc:  # argparse rejects a flag's value itself
        code = exc.code
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("study:")]
    assert len(err) == 1 and match in err[0], err


@pytest.mark.parametrize("asymmetry", [0.3, 0.5, 1.0, 2.0])
def test_the_smooth_shape_peaks_at_the_optimum_without_a_corner(asymmetry):
    kinked, smooth = Truth(asymmetry=asymmetry), Truth(asymmetry=asymmetry, shape="smooth")
    c = 65
    u = np.linspace(-3, 3, 6001)
    scales = kinked.optimum(c) * np.exp(u)
    acc = smooth.accuracy(scales, c, 0.9)
    assert abs(u[np.argmax(acc)]) < 1e-3 and acc.max() == pytest.approx(0.9)
    # one peak, at the optimum
    assert np.all(np.diff(acc[u < 0]) > 0) and np.all(np.diff(acc[u > 0]) < 0)
    slope = np.gradient(np.gradient(acc, u), u)  # f'' jumps at a kink, not on the smooth shape
    near = np.abs(u) < 0.05
    assert np.ptp(slope[near]) < 0.02
    if asymmetry != 1.0:
        assert np.ptp(np.gradient(np.gradient(kinked.accuracy(scales, c, 0.9), u), u)[near]) > 0.02
    with pytest.raises(ValueError, match="shape 'round'"):
        Truth(shape="round")


def test_study_power_with_a_smooth_peak_and_the_split_parabola(tmp_path, capsys):
    out = tmp_path / "power.json"
    assert (
        main(
            [
                "power",
                "--shape",
                "smooth",
                "--model",
                "split",
                "--studies",
                "20",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert "smooth peak" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["model"] == "split" and data["truth"]["shape"] == "smooth" and data["studies"] == 20
    # the flattest peak (C = 33) has an interior vertex in about 80% of studies (0.81 in 100)
    assert data["law_fitted"] >= 0.9 and all(p["interior"] >= 0.7 for p in data["per_class"])


def test_the_cpu_design_simulates_the_peaks_a_real_run_measured(capsys):
    """At cpu size `study power` defaults to the peaks measured on a real run (one per class
    count); a flag still overrides them, and a size with no run says it uses generic peaks."""
    from study.presets.scale_vs_classes import MEASURED_PEAKS

    assert main(["power", "--studies", "2"]) == 0
    text = capsys.readouterr().out
    assert "the peaks measured at cpu size" in text
    measured = ",".join(format(v, "g") for v in MEASURED_PEAKS["cpu"]["curvature"])
    assert f"curvature {measured} per ln-unit^2" in text
    assert main(["power", "--studies", "2", "--curvature", "0.04"]) == 0
    assert "curvature 0.04 per ln-unit^2" in capsys.readouterr().out
    assert main(["power", "--studies", "2", "--size", "smoke"]) == 0
    assert "generic peaks (no run of this size measured)" in capsys.readouterr().out


def test_per_class_peaks_reach_their_own_class_count():
    truth = Truth(top=(0.95, 0.9, 0.85, 0.8, 0.5), curvature=(0.01, 0.02, 0.03, 0.04, 0.05))
    assert truth.per_class("top", 4, 5) == 0.5 and truth.per_class("curvature", 1, 5) == 0.02
    assert truth.per_class("asymmetry", 3, 5) == 0.5  # one value: every C
    with pytest.raises(ValueError, match="give one value or 3"):
        truth.per_class("top", 0, 3)


def test_more_validation_images_narrow_only_the_class_counts_that_get_them():
    """``val_per_class`` per C sets each C's binomial validation noise: more images at the first
    class count narrow its vertex interval and leave the last one's alone."""
    plan = ScaleDesign(
        class_counts=(17, 33, 65),
        screen_scales=(1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0),
        screen_fraction=1 / 3,
        window_points=7,
        window_half_width=1.5,
        seeds=(0, 1, 2),
    )
    common = dict(curvature=0.03, asymmetry=1.0, top=0.9, train_noise=0.0, seed_effect=0.005)
    few = simulate(plan, Truth(val_per_class=(4,), **common), studies=60, seed=3)
    more = simulate(plan, Truth(val_per_class=(400, 4, 4), **common), studies=60, seed=3)
    width = [[c["median_width_ln"] for c in r.per_class] for r in (few, more)]
    assert width[1][0] < 0.5 * width[0][0], width
    assert abs(width[1][-1] / width[0][-1] - 1) < 0.25, width
    assert more.per_class[0]["replicate_sd"] < 0.2 * few.per_class[0]["replicate_sd"]
    with pytest.raises(ValueError, match="give one value or 3"):
        simulate(plan, Truth(val_per_class=(4, 4), **common), studies=1, seed=3)


def test_more_seeds_narrow_the_law_and_the_plan_says_where_the_targets_are_met():
    """The estimate stage's blocks are the design's lever: more seeds, narrower vertex intervals and
    a narrower a; `seed_plan` simulates each count on the same screen and windows."""
    from analysis.power import TARGETS, meets_targets, plan_lines, seed_plan

    truth = Truth(curvature=0.08, train_noise=0.005)
    few, many = seed_plan(DESIGN, truth, (2, 8), studies=30, seed=4)
    assert len(few.design["seeds"]) == 2 and len(many.design["seeds"]) == 8
    assert many.median_width_a < 0.75 * few.median_width_a
    assert all(
        m["median_width_ln"] < f["median_width_ln"]
        for f, m in zip(few.per_class, many.per_class, strict=True)
    )
    lines = plan_lines([few, many], [10.0, None])
    assert lines[1].split()[:3] == [
        "2",
        str(len(DESIGN.class_counts) * (len(DESIGN.screen_scales) + 2 * DESIGN.window_points)),
        "10",
    ]
    assert lines[2].split()[2] == "n/a"
    reached = [r for r in (few, many) if meets_targets(r)]
    assert lines[-1].startswith("targets (power >= 0.9")
    assert (f"reached with {len(reached[0].design['seeds'])} seeds" in lines[-1]) == bool(reached)
    assert TARGETS["median_width_a"] == 1.5


def test_study_power_plan_prints_one_row_per_seed_count(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["power", "--plan", "4,2", "--studies", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "each row's seeds" in text and "targets (power >= 0.9" in text
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["2"], ["4"])]
    assert [r[0] for r in rows] == ["2", "4"]
    # minutes projected from the measured cpu-size trial seconds: more seeds, more minutes
    assert float(rows[0][2]) < float(rows[1][2])
    data = json.loads(out.read_text())
    assert [row["seeds"] for row in data["plan"]] == [2, 4]
    assert all(len(row["design"]["seeds"]) == row["seeds"] for row in data["plan"])


def test_study_power_plan_draws_its_figure_and_refuses_one_without_a_plan(tmp_path, capsys):
    stem = tmp_path / "plan"
    assert main(["power", "--plan", "2,3", "--studies", "3", "--figure", str(stem)]) == 0
    assert f"wrote {stem}.png, {stem}.svg" in capsys.readouterr().out
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "plan.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    lone = tmp_path / "lone"
    assert main(["power", "--studies", "3", "--figure", str(lone)]) == 2
    assert "--figure" in capsys.readouterr().err and not list(tmp_path.glob("lone*"))


def test_study_power_seeds_simulates_that_many_blocks(capsys):
    assert main(["power", "--seeds", "3", "--studies", "2"]) == 0
    assert "x 3 seeds" in capsys.readouterr().out


def test_a_power_law_truth_is_recovered_through_the_whole_design():
    """The truth s* = 0.45 (C - 1)^0.6 simulated through the screen, the windows and the per-C
    estimator: k's intervals cover it and the straight law's a, b have no truth to cover."""
    r = simulate(DESIGN, Truth(power_law=(0.45, 0.6), curvature=0.08), studies=40, seed=6)
    assert r.law_fitted >= 0.8 and r.coverage_k >= 0.85
    assert abs(r.median_k - 0.6) < 0.1 and r.median_width_k > 0
    assert math.isnan(r.coverage_a) and r.coverage_gamma is None
    assert 0.0 <= r.power_law_rejected <= 0.2
    straight = simulate(DESIGN, Truth(curvature=0.08), studies=5, seed=6)
    assert straight.coverage_k is None and straight.power_law_rejected >= 0.0


def test_study_power_with_a_power_law_truth_prints_k(capsys):
    assert main(["power", "--power-law", "0.43,0.65", "--studies", "3"]) == 0
    out = capsys.readouterr().out
    assert "truth s*(C) = 0.43 (C - 1)^0.65" in out and "coverage of k's 95% interval" in out
    assert main(["power", "--power-law", "0.43"]) == 2
    assert "give two numbers C,K" in capsys.readouterr().err


def test_monte_carlo_shares_carry_their_wilson_interval():
    from analysis.power import median_interval, share_with_interval

    assert share_with_interval(0.5, 20) == "0.50 [0.30, 0.70]"  # Wilson, 10 of 20
    low, high = median_interval(np.arange(1.0, 101.0))  # the median of 1..100 is 50.5
    assert 40 <= low < 50.5 < high <= 61 and np.isnan(median_interval([1.0, 2.0])[0])
    assert share_with_interval(1.0, 200) == "1.00 [0.98, 1.00]"
    assert share_with_interval(float("nan"), 200) == "n/a"


def test_the_peak_exponent_is_simulated_and_checked_by_count(capsys):
    """`--exponent` sets the shape p of the simulated peak (|u|^p near its top); the cpu size
    defaults to the exponents the 16-seed run measured; a list of the wrong length is refused."""
    from study.presets.scale_vs_classes import MEASURED_PEAKS

    assert main(["power", "--studies", "2"]) == 0
    measured = ",".join(format(v, "g") for v in MEASURED_PEAKS["cpu"]["exponent"])
    assert f"|u|^{measured})" in capsys.readouterr().out
    assert main(["power", "--studies", "2", "--exponent", "1.5"]) == 0
    assert "|u|^1.5)" in capsys.readouterr().out
    assert main(["power", "--studies", "2", "--exponent", "1,2"]) == 2
    assert "--exponent 1.0,2.0: give one value or 5" in capsys.readouterr().err


def test_a_sharp_peak_is_simulated_as_k_times_u_to_the_p():
    truth = Truth(curvature=0.04, asymmetry=1.0, exponent=1.5, top=0.9)
    s_star = float(truth.optimum(np.array([33]))[0])
    acc = truth.accuracy(np.array([s_star, s_star * math.e]), 33, 0.9)
    depth = 0.9 - 1 / 33
    assert acc[0] == pytest.approx(0.9)
    assert acc[1] == pytest.approx(0.9 - 0.04 / (1 + (0.04 / depth) ** 4) ** 0.25)
    assert acc[1] == pytest.approx(0.9 - 0.04, abs=1e-6)  # far from chance: k |u|^p itself


def test_the_simulated_peak_follows_k_u_to_the_p_until_it_nears_chance():
    """Inside a window the truth is the measured k |u|^p (the real peaks pass the split peak's
    lack-of-fit test there); only where that drop nears the depth to chance does it level off, and
    it never falls below chance."""
    truth = Truth(curvature=0.065, asymmetry=2.38, exponent=1.25, top=0.52)
    c = 257
    u = np.linspace(-6, 6, 1201)
    acc = truth.accuracy(truth.optimum(c) * np.exp(u), c, 0.52)
    pure = 0.52 - 0.065 * np.where(u < 0, 1.0, 2.38) * np.abs(u) ** 1.25
    depth = 0.52 - 1 / c
    half = (0.52 - pure) < 0.5 * depth
    assert np.max(np.abs(acc - pure)[half]) < 0.01 * depth  # 0.75% of the depth at half of it
    assert np.all(acc > 1 / c) and acc.min() < 1 / c + 0.1 * depth
    assert np.all(np.diff(acc[u < 0]) > 0) and np.all(np.diff(acc[u > 0]) < 0)
