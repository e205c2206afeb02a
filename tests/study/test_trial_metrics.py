"""A trial's epoch metrics in MLflow: kept by its worker until a flush (or the run's close), then
sent in requests of at most MLflow's 1,000 metrics, each epoch at its own step; read back from a
real sqlite store."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from study.tracking import experiment_id_for
from study.trial_run import METRICS_PER_BATCH, TrialRecorder


def _recorder(store: str) -> TrialRecorder:
    experiment = experiment_id_for(store, "metrics-test")
    parent = MlflowClient(store).create_run(experiment).info.run_id
    return TrialRecorder(store, experiment, parent, (("study", "metrics-test"),))


def test_kept_epochs_reach_the_store_on_flush_and_on_close(store):
    client = MlflowClient(store)
    run = _recorder(store).open("t1", "trial_1", {"train.epochs": 4})
    for epoch in (1, 2, 3):
        run.log_epoch(
            {"epoch": epoch, "train_loss": 1.0 / epoch, "per_epoch_nan": float("nan")}, flush=False
        )
    run.drain()  # every request made so far (creating the run) has reached the store
    assert client.get_metric_history(run.run_id, "train_loss") == []  # kept by the worker
    run.log_epoch({"epoch": 4, "train_loss": 0.2, "val_accuracy": 0.9}, flush=True)
    history = client.get_metric_history(run.run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 0.5), (3, 1.0 / 3), (4, 0.2)]
    assert [m.step for m in client.get_metric_history(run.run_id, "val_accuracy")] == [4]
    # non-finite values are left out
    assert "per_epoch_nan" not in client.get_run(run.run_id).data.metrics

    run.log_epoch({"epoch": 5, "train_loss": 0.1}, flush=False)
    run.close()  # a trial that ends any other way: its run's close sends what is kept
    assert [m.step for m in client.get_metric_history(run.run_id, "train_loss")] == [1, 2, 3, 4, 5]


def test_more_metrics_than_one_request_takes_are_all_sent(store):
    client = MlflowClient(store)
    run = _recorder(store).open("t2", "trial_2", {})
    width = 300  # 4 epochs of 301 metrics: more than one log_batch may carry
    for epoch in range(1, 5):
        run.log_epoch(
            {"epoch": epoch, **{f"m{i}": float(i + epoch) for i in range(width)}}, flush=False
        )
    assert len(run.pending) > METRICS_PER_BATCH
    run.flush()
    assert run.pending == []
    assert [m.value for m in client.get_metric_history(run.run_id, "m7")] == [8.0, 9.0, 10.0, 11.0]
    assert len(client.get_run(run.run_id).data.metrics) == width + 1


def test_requests_reach_the_store_in_order_while_the_trial_goes_on(store):
    """The run is created in the background: open returns at once, and the tags, dataset-free
    metrics and artifacts made before the run existed land on it, in order, by the next drain."""
    import pathlib
    import tempfile

    client = MlflowClient(store)
    run = _recorder(store).open("t3", "trial_3", {"data.num_classes": 7})
    run.set_tags(stage="first")
    run.set_tags(stage="second")  # the later request wins, so order is kept
    with tempfile.TemporaryDirectory() as directory:
        (pathlib.Path(directory) / "note.txt").write_text("kept")
        run.log_artifacts(directory)
        run.log_epoch({"epoch": 1, "train_loss": 0.5}, flush=True)  # waits for all of the above
    recorded = client.get_run(run.run_id)
    assert recorded.data.tags["stage"] == "second" and recorded.data.tags["trial_id"] == "t3"
    assert (
        recorded.data.tags["class_count"] == "7" and recorded.data.params["data.num_classes"] == "7"
    )
    assert [a.path for a in client.list_artifacts(run.run_id)] == ["note.txt"]
    assert [m.value for m in client.get_metric_history(run.run_id, "train_loss")] == [0.5]
    run.close()


def test_a_store_that_refuses_the_run_fails_the_trial_at_its_next_drain(store):
    """Nothing is lost silently: creating the run in a missing experiment fails there, and the
    error reaches the trial (which Ray then retries) when it next waits on its requests."""
    import pytest
    from mlflow.exceptions import MlflowException

    parent = TrialRecorder(store, "424242", "no-such-parent", (("study", "x"),))
    run = parent.open("t4", "trial_4", {})
    run.log_epoch({"epoch": 1, "train_loss": 0.5}, flush=False)  # kept: no request yet
    with pytest.raises(MlflowException):
        run.flush()
    assert run.run_id is None
    run.close()  # nothing left to raise: the failure was reported once


def test_the_driver_finds_a_trials_run_by_its_trial_id(store):
    """A trial that failed before its worker knew the run's id reports none; the driver's
    RecordOutcome finds the run by its trial_id tag and closes it as failed with the reason."""
    from types import SimpleNamespace

    from study.callbacks import RecordOutcome

    recorder = _recorder(store)
    run = recorder.open("t5", "trial_5", {})
    run.drain()
    outcome = RecordOutcome(recorder, planned_trials=1)
    trial = SimpleNamespace(trial_id="t5", last_result={}, status="ERROR", error_file=None)
    outcome.on_trial_error(0, [trial], trial)
    recorded = MlflowClient(store).get_run(run.run_id)
    assert recorded.info.status == "FAILED" and outcome.outcomes == {"t5": "failed"}
    assert recorded.data.tags["trial_status"] == "failed"
    run.close()
