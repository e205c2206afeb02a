"""The report's best trial is ranked among full-budget trials only, and is labelled for what it is:
one run, the best of many noisy ones."""

from __future__ import annotations

import pytest
from synthetic_study import designed_trials

from analysis.render import markdown
from analysis.report import best_per_class_count, best_trial, json_safe, study_summary, top_table


@pytest.fixture(scope="module")
def mixed():
    """A two-stage study whose screen trials (a third of the steps) and one early-stopped estimate
    trial score above every full-budget trial: a ranking over all FINISHED runs picks them."""
    trials = designed_trials(class_counts=(17, 33, 65), seeds=(0, 1))
    screen = trials["tag:stage"] == "screen"
    trials.loc[screen, "metric:val_accuracy"] = 0.99
    stopped = trials.index[~screen][0]
    trials.loc[stopped, ["tag:trial_status", "metric:val_accuracy"]] = ["stopped_early", 0.995]
    return trials, trials[~screen].drop(index=stopped)


def test_the_best_trial_and_the_tables_rank_full_budget_trials_only(mixed):
    trials, full = mixed
    expected = full.loc[full["metric:val_accuracy"].idxmax(), "run_id"]
    assert best_trial(trials, "val_accuracy", "max")["run_id"] == expected
    per_count = {
        row["num_classes"]: row for row in best_per_class_count(trials, "val_accuracy", "max")
    }
    for c, group in full.groupby("param:data.num_classes"):
        row = per_count[c]
        assert row["run_id"] == group.loc[group["metric:val_accuracy"].idxmax(), "run_id"]
        assert row["full-budget trials"] == len(group)
    top = top_table(trials, "val_accuracy", "max")
    assert set(top["trial_status"]) == {"finished"}
    assert top["val_accuracy"].max() < 0.99 and set(top["run_id"]) <= set(full["run_id"])


def test_the_report_calls_it_the_best_single_trial_and_points_to_the_estimates(mixed):
    trials, full = mixed
    summary, _ = study_summary(trials, "mixed", "val_accuracy", "max", n_boot=20)
    best = summary["best"]
    assert best["candidates"] == len(full) and best["val_accuracy"] < 0.99
    text = " ".join(markdown({"studies": [json_safe(summary)]}).split())
    assert f"Best single trial {best['run_id']}" in text
    assert f"the best of {len(full)} trials that ran their whole budget" in text
    assert "optimistic" in text and "the fitted vertices s*(C) of the scale trend below" in text
    assert "Best single trial per class count" in text and "full budget only" in text
    assert "0.99" not in text.split("Optimum scale vs class count")[0]


def test_parameter_importances_are_taken_over_full_budget_trials_only(mixed):
    from analysis.importance import importance_info

    trials, full = mixed
    info = importance_info(trials, "val_accuracy", "max")
    assert info["trials"] == len(full) < len(trials)
    assert "full-budget trials" in info["message"]
