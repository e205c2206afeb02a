"""The report of camri's CE baseline arm (on the Pareto plot, in a table, a verdict per front trial) and
of scale-schedules' selection on validation classes (test Recall@1 of the selected trial only): the
logic on a hand-built frame, then real tiny studies written to a real MLflow store and `study report`."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis.summaries import pareto_info
from tests.conftest import run_study_cli
from tests.trainables.recorded_runs import run_small_preset

T_975_2DF = 4.302652729911275  # scipy.stats.t.ppf(0.975, 2)


def _frame() -> pd.DataFrame:
    rows = [  # (arm tag, loss, seed, val accuracy, val recall, test recall)
        (None, "camri", 0, 0.90, 0.60, 0.70),
        (None, "camri", 0, 0.85, 0.80, 0.55),
        (None, "camri", 0, 0.70, 0.95, 0.30),
        # dominated on validation: not on the front, whatever its test recall
        (None, "camri", 0, 0.80, 0.50, 0.90),
        ("baseline", "ce", 0, 0.99, 0.99, 0.50),
        ("baseline", "ce", 1, 0.98, 0.97, 0.52),
        ("baseline", "ce", 2, 0.97, 0.98, 0.54),
    ]
    return pd.DataFrame(
        [
            {
                "run_id": f"r{i}",
                "status": "FINISHED",
                "tag:arm": arm,
                "param:loss.output": loss,
                "param:train.seed": seed,
                "metric:val_accuracy": acc,
                "metric:val_important_class_recall": val,
                "metric:test_important_class_recall": test,
            }
            for i, (arm, loss, seed, acc, val, test) in enumerate(rows)
        ]
    )


def test_the_baseline_is_never_on_the_front_and_every_front_trial_gets_a_verdict():
    info = pareto_info(_frame(), ["val_accuracy", "val_important_class_recall"], ["max", "max"])
    # the baseline dominates all, yet is no member
    assert [p["run_id"] for p in info["front"]] == ["r0", "r1", "r2"]
    base = info["baseline"]
    assert base["arm"] == "ce (baseline)" and base["seeds"] == [0, 1, 2] and base["trials"] == 3
    recall = base["metrics"]["test_important_class_recall"]
    half = T_975_2DF * 0.02 * math.sqrt(1 + 1 / 3)
    assert recall["mean"] == pytest.approx(0.52) and recall["sd"] == pytest.approx(0.02)
    assert (recall["pred_low"], recall["pred_high"]) == pytest.approx((0.52 - half, 0.52 + half))
    assert recall["low"] > recall["pred_low"] and recall["per_seed"] == {0: 0.50, 1: 0.52, 2: 0.54}
    verdicts = {p["run_id"]: p["vs_baseline"] for p in info["front"]}
    assert [verdicts[r]["verdict"] for r in ("r0", "r1", "r2")] == ["above", "within", "below"]
    # not the validation values it was chosen on
    assert all(v["metric"] == "test_important_class_recall" for v in verdicts.values())
    assert verdicts["r0"]["minus_mean"] == pytest.approx(0.18) and verdicts["r0"][
        "minus_same_seed"
    ] == pytest.approx(0.20)
    assert info["arms"]["ce (baseline)"]["trials"] == 3 and info["arms"]["camri"]["trials"] == 4


def test_a_searched_arm_is_described_by_median_and_range_and_only_replicates_get_an_interval():
    """The camri arm's trials are the sampler's choices (not replicates): a t interval over them
    would estimate nothing. The baseline arm is one configuration on 3 seeds: mean and t interval."""
    from analysis.render import markdown

    info = pareto_info(_frame(), ["val_accuracy", "val_important_class_recall"], ["max", "max"])
    searched, base = info["arms"]["camri"], info["arms"]["ce (baseline)"]
    assert searched["kind"] == "searched" and base["kind"] == "replicates"
    assert searched["val_accuracy"] == {
        "n": 4,
        "median": pytest.approx(0.825),
        "min": 0.70,
        "max": 0.90,
    }
    assert base["val_accuracy"]["low"] < base["val_accuracy"]["mean"] < base["val_accuracy"]["high"]
    study = {
        "experiment": "camri",
        "metric": "val_accuracy,val_important_class_recall",
        "mode": "max,max",
        "trials": 7,
        "trial_status_counts": {},
        "pareto": info,
        "figures": {},
    }
    text = markdown({"studies": [study]})
    assert "Searched arms: median and range over their trials" in text
    assert "not replicates" in text and "0.825 (0.7 to 0.9)" in text
    assert "mean over their trials, 95% t interval" not in text


def test_one_baseline_seed_gives_no_verdict():
    frame = _frame().drop(index=[5, 6])
    info = pareto_info(frame, ["val_accuracy", "val_important_class_recall"], ["max", "max"])
    assert {p["vs_baseline"]["verdict"] for p in info["front"]} == {"unknown"}
    assert info["baseline"]["metrics"]["test_important_class_recall"]["pred_low"] is None


def test_a_baseline_without_spread_gives_no_prediction_interval_and_no_verdict():
    """Three baseline seeds with the same test recall: a prediction interval of width 0 would call
    every front trial above or below the baseline."""
    frame = _frame()
    frame.loc[frame["tag:arm"] == "baseline", "metric:test_important_class_recall"] = 0.52
    info = pareto_info(frame, ["val_accuracy", "val_important_class_recall"], ["max", "max"])
    recall = info["baseline"]["metrics"]["test_important_class_recall"]
    assert recall["pred_low"] is None and recall["note"] == "no spread in 3 runs: no interval"
    assert {p["vs_baseline"]["verdict"] for p in info["front"]} == {"unknown"}


def _report(store: str, folder, *flags: str) -> dict:
    done = run_study_cli(
        "report", "--tracking-uri", store, "--out", str(folder / "report"), *flags, cwd=folder
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (study,) = json.loads((folder / "report" / "report.json").read_text())["studies"]
    return study


@pytest.mark.slow
def test_a_camri_study_reports_its_ce_baseline_on_the_pareto_plot_and_in_a_table(
    camri_study, tmp_path
):
    store, trials = camri_study  # tests/conftest.py: a real camri run, shared
    ce = trials[trials["tag:arm"].eq("baseline")]
    assert len(trials) == 5 and len(ce) == 2 and ce["param:loss.output"].eq("ce").all()
    assert sorted(ce["param:train.seed"]) == [0, 1] and ce["param:data.subset_seed"].eq(0).all()
    # CE reports the important class too
    assert trials["metric:test_important_class_recall"].notna().all()
    study = _report(store, tmp_path)
    pareto = study["pareto"]
    base = pareto["baseline"]
    assert base["seeds"] == [0, 1] and base["arm"] == "ce (baseline)"
    for metric in ("val_accuracy", "val_important_class_recall", "test_important_class_recall"):
        values = ce.sort_values("param:train.seed")[f"metric:{metric}"].tolist()
        # from the store
        assert base["metrics"][metric]["mean"] == pytest.approx(sum(values) / 2), metric
        assert base["metrics"][metric]["per_seed"] == {
            str(s): pytest.approx(v) for s, v in zip((0, 1), values)
        }
    assert pareto["front"] and all(
        p["arm"] == "camri" and not p["baseline"] for p in pareto["front"]
    )
    pred = base["metrics"]["test_important_class_recall"]
    for p in pareto["front"]:
        v = p["vs_baseline"]
        assert v["metric"] == "test_important_class_recall" and v["verdict"] in (
            "above",
            "below",
            "within",
        )
        inside = (
            pred["pred_low"] <= v["value"] <= pred["pred_high"]
            if pred["sd"]
            else v["value"] == pred["mean"]
        )
        assert (v["verdict"] == "within") == inside
    png = tmp_path / "report" / study["figures"]["pareto"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the legend names the CE arm
    assert "ce (baseline): 2 seeds" in png.with_suffix(".svg").read_text()
    text = (tmp_path / "report" / "report.md").read_text()
    assert (
        "Baseline ce (baseline): 2 runs on seeds 0, 1" in text
        and "one run, 95% PI" in text
        and "vs baseline" in text
    )


@pytest.mark.slow
def test_scale_schedules_selects_on_validation_classes_and_reports_the_selected_test_recall_only(
    tmp_path,
):
    base = {
        "data.image_size": 16,
        "data.max_per_class": 20,
        "train.epochs": 1,
        "train.additional_epochs": 1,
    }
    store, trials = run_small_preset("scale-schedules", tmp_path, base, trials=3)
    assert len(trials) == 3 and trials["param:data.val_classes"].eq(4).all()
    assert (
        trials["metric:val_recall_at_1"].between(0, 1).all()
        and trials["tag:metric"].eq("val_recall_at_1").all()
    )
    chosen = trials.loc[trials["metric:val_recall_at_1"].idxmax()]
    study = _report(store, tmp_path, "--no-figures")
    assert study["metric"] == "val_recall_at_1" and study["best"]["run_id"] == chosen["run_id"]
    (selected,) = study["selected"]
    assert selected["run_id"] == chosen["run_id"] and selected["selected_by"] == "val_recall_at_1"
    assert (
        selected["test_recall_at_1"] == pytest.approx(chosen["metric:test_recall_at_1"])
        and selected["candidates"] == 3
    )
    assert all("test_recall_at_1" not in row and "test_accuracy" not in row for row in study["top"])
    text = (tmp_path / "report" / "report.md").read_text()
    assert "Selected by val_recall_at_1; test Recall@1 of the selection only" in text
    top = text.split("### Top")[1].split("###")[0]
    # the ranking shows no trial's test value
    assert "val_recall_at_1" in top and "test_" not in top
