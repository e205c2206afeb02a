"""The only module of the analysis package that talks to MLflow."""
from __future__ import annotations

import pandas as pd

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
    frame = mlflow.search_runs(experiment_ids=list(names), output_format="pandas") if names else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "experiment", "status", "start_time"])
    if f"{TAG}role" in frame:
        frame = frame[frame[f"{TAG}role"] != "study"]
    out = pd.DataFrame({
        "run_id": frame["run_id"],
        "experiment": frame["experiment_id"].map(names),
        "status": frame["status"],
        "start_time": frame["start_time"],
    })
    columns = {}
    for column in frame.columns:
        for prefix, label in ((PARAM, "param:"), (METRIC, "metric:"), (TAG, "tag:")):
            if column.startswith(prefix):
                values = frame[column]
                if prefix == PARAM:
                    values = _typed(values)
                columns[label + column[len(prefix):]] = values
    return pd.concat([out, pd.DataFrame(columns, index=frame.index)], axis=1).reset_index(drop=True)


def _typed(values: pd.Series) -> pd.Series:
    """MLflow stores params as strings; give numbers back their type."""
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().sum() == values.notna().sum() else values
