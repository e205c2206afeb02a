"""analysis.load against a real MLflow sqlite store with finished, failed and running trials."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.load import load_metric_histories, load_run, load_trials


def test_one_row_per_trial_with_every_status(small_store):
    trials = load_trials(small_store["uri"])
    assert len(trials) == len(small_store["trials"]) + 2  # the study's parent run is not a trial
    status = trials.set_index("run_id")["status"]
    assert status[small_store["FAILED"]] == "FAILED" and status[small_store["RUNNING"]] == "RUNNING"
    assert (status.drop([small_store["FAILED"], small_store["RUNNING"]]) == "FINISHED").all()
    assert set(trials["experiment"]) == {"scale-vs-classes-smoke"}


def test_params_are_typed_and_metrics_hold_the_last_value(small_store):
    trials = load_trials(small_store["uri"]).set_index("run_id")
    assert pd.api.types.is_numeric_dtype(trials["param:scale.start"])
    assert pd.api.types.is_numeric_dtype(trials["param:data.num_classes"])
    assert trials["param:loss.output"].eq("normface").all()
    source = small_store["trials"].set_index("run_id")
    for synthetic_id, run_id in list(small_store["ids"].items())[:3]:
        assert trials.loc[run_id, "metric:val_accuracy"] == pytest.approx(
            source.loc[synthetic_id, "metric:val_accuracy"]
        )
    failed = trials.loc[small_store["FAILED"]]
    assert failed["tag:trial_status"] == "failed" and failed["tag:failure_reason"].startswith(
        "TrialDiverged"
    )
    assert trials.loc[small_store["RUNNING"], "metric:val_accuracy"] == pytest.approx(0.2)


def test_an_unknown_experiment_is_a_lookup_error(small_store):
    with pytest.raises(LookupError, match="no experiment named 'nope'"):
        load_trials(small_store["uri"], "nope")


def test_histories_of_finished_failed_and_running_trials(small_store):
    finished = next(iter(small_store["ids"].values()))
    runs = [finished, small_store["FAILED"], small_store["RUNNING"]]
    history = load_metric_histories(small_store["uri"], runs, "val_accuracy")
    assert history.groupby("run_id")["step"].apply(list).to_dict() == {
        finished: [1, 2],
        small_store["FAILED"]: [1],
        small_store["RUNNING"]: [1],
    }
    assert load_metric_histories(small_store["uri"], [small_store["FAILED"]], "scale").empty


def test_load_run_keeps_params_as_recorded(small_store):
    record = load_run(small_store["uri"], small_store["FAILED"])
    assert record.status == "FAILED" and record.experiment == "scale-vs-classes-smoke"
    assert record.params["scale.start"] == "4.0" and record.params["data.num_classes"] == "10"
    assert not record.is_study_run
    with pytest.raises(LookupError, match="no run"):
        load_run(small_store["uri"], "0" * 32)
