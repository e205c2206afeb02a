"""A trial's epoch metrics in MLflow: kept by its worker until a flush (or the run's close), then
sent in requests of at most MLflow's 1,000 metrics, each epoch at its own step; read back from a
real sqlite store."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from study.tracking import METRICS_PER_BATCH, TrialRecorder, experiment_id_for


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
