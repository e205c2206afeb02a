"""The only module of the analysis package that talks to MLflow."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trainables.flat import guess, is_number

PARAM, METRIC, TAG = "params.", "metrics.", "tags."


def load_trials(tracking_uri: str, experiment: str | None = None) -> pd.DataFrame:
    """One row per trial run (study parent runs excluded), all experiments unless one is named.

    Columns: ``run_id``, ``experiment``, ``status``, ``start_time``, then ``param:<flat key>``
    (typed where numeric), ``metric:<name>`` (last value) and ``tag:<name>``.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = client.search_experiments()
    if experiment is not None:
        experiments = [e for e in experiments if e.name == experiment]
        if not experiments:
            raise LookupError(f"no experiment named {experiment!r} in {tracking_uri}")
    names = {e.experiment_id: e.name for e in experiments}
    mlflow.set_tracking_uri(tracking_uri)
    frame = (
        mlflow.search_runs(experiment_ids=list(names), output_format="pandas")
        if names
        else pd.DataFrame()
    )
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "experiment", "status", "start_time"])
    if f"{TAG}role" in frame:
        frame = frame[frame[f"{TAG}role"] != "study"]
    out = pd.DataFrame(
        {
            "run_id": frame["run_id"],
            "experiment": frame["experiment_id"].map(names),
            "status": frame["status"],
            "start_time": frame["start_time"],
        }
    )
    columns = {}
    for column in frame.columns:
        for prefix, label in ((PARAM, "param:"), (METRIC, "metric:"), (TAG, "tag:")):
            if column.startswith(prefix):
                values = frame[column]
                if prefix == PARAM:
                    values = _typed(values)
                columns[label + column[len(prefix) :]] = values
    return pd.concat([out, pd.DataFrame(columns, index=frame.index)], axis=1).reset_index(drop=True)


def _typed(values: pd.Series) -> pd.Series:
    """MLflow stores params as strings: a column whose every value reads as a number
    (``trainables.flat.guess``) gets numbers back; any other column keeps its text."""
    decoded = values.map(guess, na_action="ignore")
    return pd.to_numeric(decoded) if decoded.dropna().map(is_number).all() else values


def load_metric_histories(
    tracking_uri: str, run_ids: list[str] | tuple[str, ...], metric: str
) -> pd.DataFrame:
    """Per-epoch values of ``metric`` for each run: columns ``run_id``, ``step``, ``value``, ``timestamp``.

    Works for failed, running and killed runs alike (they hold whatever epochs they logged); a
    run that never logged ``metric`` (or that the store does not know) contributes no rows.
    """
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    rows = [
        (run_id, m.step, m.value, m.timestamp)
        for run_id in run_ids
        for m in client.get_metric_history(run_id, metric)
    ]
    frame = pd.DataFrame(rows, columns=["run_id", "step", "value", "timestamp"])
    return frame.sort_values(["run_id", "step", "timestamp"], kind="stable").reset_index(drop=True)


PER_CLASS_ARTIFACT = "per_class_recall.csv"  # written by each finished trial (trainables.artifacts)


def load_per_class_recall(tracking_uri: str, run_id: str) -> pd.DataFrame | None:
    """A trial's per-class test recall table (columns ``class``, ``name``, ``train_images``, ``head``,
    ``test_recall``) from its ``per_class_recall.csv`` artifact; None when the run has none (it failed,
    was stopped early, or evaluates by retrieval)."""
    import os
    import tempfile

    # no progress bar per trial in a report
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as directory:
        try:
            path = download_artifacts(
                run_id=run_id,
                artifact_path=PER_CLASS_ARTIFACT,
                dst_path=directory,
                tracking_uri=tracking_uri,
            )
        except (MlflowException, OSError):
            return None
        return pd.read_csv(path)


@dataclass(frozen=True)
class RunRecord:
    """One run as stored: its params as the strings MLflow keeps, its last metric values and tags."""

    run_id: str
    experiment: str
    status: str  # FINISHED | FAILED | RUNNING | KILLED | SCHEDULED
    params: dict[str, str]  # flat TrialConfig keys -> recorded text
    metrics: dict[str, float]  # last value of each metric
    tags: dict[str, str]

    @property
    def is_study_run(self) -> bool:
        """The parent run of a study, not a trial."""
        return self.tags.get("role") == "study"


def load_run(tracking_uri: str, run_id: str) -> RunRecord:
    """The params, last metrics and tags of one run; LookupError when the store has no such run."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id).name
    except MlflowException as exc:
        raise LookupError(f"no run {run_id!r} in {tracking_uri} ({exc.message})") from None
    return RunRecord(
        run_id=run.info.run_id,
        experiment=experiment,
        status=run.info.status,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
    )


__all__ = [
    "PER_CLASS_ARTIFACT",
    "RunRecord",
    "load_metric_histories",
    "load_per_class_recall",
    "load_run",
    "load_trials",
]
