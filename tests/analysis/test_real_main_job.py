"""The estimator on trials real runs wrote, exported from their MLflow stores by
``analysis.load.load_trials`` and ``scale_trials`` (2026-12-02, estimate-stage trials only):
``data/main_job_16_seeds.csv``, the main job at cpu size (9 scales, 25 validation images per
class) resumed to 16 paired seeds (720 trials); ``data/main_job_8_seeds_val8192.csv``, the same
with 8,192 validation images per trial resumed to 8 seeds (360 trials); ``data/main_job_default.csv``,
the default as it stands (10 scales x 4 seeds, 200 trials). These are the figures README.md and
docs/main-job.md report, and the peaks ``study power`` simulates (``MEASURED_PEAKS``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.response import class_responses
from analysis.trends import scale_trend
from study.presets.scale_vs_classes import MEASURED_PEAKS, val_per_class

DATA = Path(__file__).parent / "data"


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / name, dtype={"run_id": str})
    return frame.assign(experiment="scale-vs-classes-cpu")


@pytest.fixture(scope="module")
def trials() -> pd.DataFrame:
    return load("main_job_16_seeds.csv")


def test_the_real_peaks_are_sharper_than_parabolas(trials):
    """The split parabola fails its lack-of-fit test at four of five class counts; the split peak
    with its exponent profiled fits every one, with p between 1.25 and 1.5."""
    parabola, _ = class_responses(trials, model="split-parabola")
    assert sum(r.lack_of_fit_p_model < 0.01 for r in parabola) == 4
    peak, _ = class_responses(trials)
    assert [r.model for r in peak] == ["split"] * 5 and all(r.interior for r in peak)
    assert all(1.25 <= r.exponent <= 1.5 for r in peak)
    assert all(r.lack_of_fit_p_model > 0.04 for r in peak)
    assert [round(r.scale, 2) for r in peak] == [5.68, 6.27, 9.23, 12.49, 15.31]
    for r in peak:
        assert r.ci[0] < r.scale < r.ci[1] and r.ci[1] / r.ci[0] < 2.0


def test_the_law_and_the_power_law_on_16_and_on_4_seeds(trials):
    """16 seeds: neither form rejected, a's interval clear of AdaCos's 1.41; the first 4 seeds (the
    default run) give a law whose interval holds the 16-seed estimate."""
    full = scale_trend(trials, experiment="scale-vs-classes-cpu", n_boot=20)
    assert full.fit.a == pytest.approx(4.81, abs=0.01)
    assert full.fit.a_ci[0] == pytest.approx(3.76, abs=0.01) and full.fit.a_ci[0] > 2**0.5
    assert full.fit.lack_of_fit_p > 0.05 and full.power_law.lack_of_fit_p > 0.05
    assert full.power_law.k_ci[0] < 0.5 < full.power_law.k_ci[1]
    four = trials[trials["param:train.seed"] < 4]
    default = scale_trend(four, experiment="scale-vs-classes-cpu", n_boot=20)
    assert default.fit.a == pytest.approx(5.65, abs=0.01)
    assert default.fit.a_ci[0] < full.fit.a < default.fit.a_ci[1]


def peaks(trials: pd.DataFrame, images: list[int]) -> dict[str, tuple[float, ...]]:
    """What each C's split peak says, in ``study power``'s terms: accuracy at the top, the accuracy
    lost 1 ln unit below it, the above/below ratio, the exponent, and the residual sd beyond the
    binomial sd of ``images`` validation images."""
    out: dict[str, list[float]] = {k: [] for k in ("top", "curvature", "asymmetry", "exponent")}
    out["train_noise"] = []
    for r, n in zip(class_responses(trials)[0], images, strict=True):
        top = max(r.curve["value"])
        below, above = -r.side_curvatures["below"][0] / 2, -r.side_curvatures["above"][0] / 2
        binomial = np.sqrt(top * (1 - top) / n)
        out["top"].append(top), out["curvature"].append(below)
        out["asymmetry"].append(above / below), out["exponent"].append(r.exponent)
        out["train_noise"].append(np.sqrt(max(r.residual_sd**2 - binomial**2, 1e-6)))
    return {k: tuple(v) for k, v in out.items()}


def test_study_power_simulates_the_peaks_and_noise_the_real_runs_measured(trials):
    """The shape of each peak from the 16-seed run; the noise beyond the validation set's binomial
    sd from the run on today's 8,192 validation images (the noise is what the validation size
    changes). A rerun that moves them means MEASURED_PEAKS is stale."""
    measured = MEASURED_PEAKS["cpu"]
    shape = peaks(trials, [25 * c for c in (33, 55, 92, 153, 257)])
    for name, tolerance in (("top", 6e-4), ("curvature", 6e-5), ("asymmetry", 6e-3)):
        assert shape[name] == pytest.approx(measured[name], abs=tolerance), name
    assert shape["exponent"] == measured["exponent"]
    eight = load("main_job_8_seeds_val8192.csv")
    noise = peaks(eight, [val_per_class("cpu", c) * c for c in (33, 55, 92, 153, 257)])
    assert noise["train_noise"] == pytest.approx(measured["train_noise"], abs=6e-5)
    seed_means = eight.groupby(["param:data.num_classes", "param:train.seed"])[
        "metric:val_accuracy"
    ]
    seed_sd = seed_means.mean().groupby(level=0).std().mean()
    assert seed_sd == pytest.approx(measured["seed_effect"], abs=6e-4)
    # the validation images took about a quarter off the residual sd at C <= 92 (docs/main-job.md)
    before, after = class_responses(trials)[0], class_responses(eight)[0]
    for old, new in list(zip(before, after, strict=True))[:3]:
        assert new.residual_sd < 0.8 * old.residual_sd


def test_the_default_run_gives_the_figures_the_readme_reports():
    """The README's table and law: every C has an interior vertex from the split peak, the law
    a = 5.13 [4.24, 6.02] is not rejected, and AdaCos's slope lies far below a's interval."""
    default = load("main_job_default.csv")
    assert len(default) == 200 and default.groupby("param:data.num_classes").size().eq(40).all()
    responses, _ = class_responses(default)
    assert all(r.model == "split" and r.interior and len(r.scale_levels) == 10 for r in responses)
    assert [round(r.scale, 2) for r in responses] == [4.54, 6.81, 8.5, 11.55, 15.38]
    trend = scale_trend(default, experiment="scale-vs-classes-cpu", n_boot=20)
    assert trend.fit.a == pytest.approx(5.13, abs=0.01)
    assert trend.fit.a_ci == pytest.approx((4.24, 6.02), abs=0.01)
    assert trend.fit.lack_of_fit_p > 0.05 and trend.power_law.lack_of_fit_p > 0.05
    assert trend.fit.a_ci[0] > 2 * 2**0.5  # more than twice AdaCos's slope
