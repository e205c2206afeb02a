"""Synthetic studies with a known optimum-scale law, as DataFrames and as real MLflow runs (no mocks)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRUE_A, TRUE_B = 2.0, 3.0  # s*(C) = 2 ln(C - 1) + 3
CLASS_COUNTS = (5, 10, 20, 50, 100, 200)


def true_optimum(c: int) -> float:
    return TRUE_A * math.log(c - 1) + TRUE_B


def synthetic_trials(class_counts=CLASS_COUNTS, per_class: int = 40, noise: float = 0.005, seed: int = 0) -> pd.DataFrame:
    """Trials whose accuracy peaks at s*(C) in ln s: 0.9 - 0.05 (ln s - ln s*)^2 + N(0, noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in class_counts:
        for i in range(per_class):
            s = float(np.exp(rng.uniform(0.0, math.log(64.0))))
            value = 0.9 - 0.05 * (math.log(s) - math.log(true_optimum(c))) ** 2 + rng.normal(0.0, noise)
            rows.append({
                "run_id": f"run-{c}-{i}", "experiment": "scale-vs-classes-smoke", "status": "FINISHED",
                "start_time": pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=len(rows)),
                "param:data.num_classes": c, "param:scale.start": s, "param:scale.schedule": "constant",
                "param:loss.output": "normface", "param:optim.lr": float(rng.uniform(0.01, 0.1)),
                "metric:val_accuracy": value, "metric:test_accuracy": value - 0.01,
                "tag:trial_status": "finished", "tag:preset": "scale-vs-classes",
            })
    return pd.DataFrame(rows)


def trial_params(c: int, scale: float) -> dict[str, str]:
    """The flat TrialConfig of a tiny glyphs trial, as MLflow stores it (strings)."""
    from trainables.config import TrialConfig

    cfg = TrialConfig.from_flat({
        "data.name": "glyphs", "data.num_classes": c, "data.max_per_class": 30, "loss.output": "normface",
        "scale.start": scale, "train.epochs": 1, "train.device": "cpu", "train.threads": 1,
    })
    return {k: str(v) for k, v in cfg.to_flat().items()}


def fill_store(uri: str, trials: pd.DataFrame, experiment: str = "scale-vs-classes-smoke") -> dict[str, str]:
    """Record ``trials`` as real MLflow runs under a study parent run; returns synthetic id -> run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(experiment)
    parent = client.create_run(exp, tags={"role": "study", "study": experiment, "metric": "val_accuracy", "mode": "max"})
    client.set_terminated(parent.info.run_id, "FINISHED")
    ids = {}
    for _, row in trials.iterrows():
        run = client.create_run(exp, tags={"mlflow.parentRunId": parent.info.run_id, "study": experiment,
                                           "preset": "scale-vs-classes", "metric": "val_accuracy", "mode": "max"})
        params = trial_params(int(row["param:data.num_classes"]), float(row["param:scale.start"]))
        metrics = [Metric("val_accuracy", float(row["metric:val_accuracy"]) - 0.1, 0, 1),
                   Metric("val_accuracy", float(row["metric:val_accuracy"]), 0, 2),
                   Metric("test_accuracy", float(row["metric:test_accuracy"]), 0, 2),
                   Metric("scale", float(row["param:scale.start"]), 0, 2)]
        client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, v) for k, v in params.items()],
                         tags=[RunTag("trial_status", "finished"), RunTag("class_count", str(row["param:data.num_classes"]))])
        client.set_terminated(run.info.run_id, "FINISHED")
        ids[row["run_id"]] = run.info.run_id
    return ids


def add_unfinished(uri: str, experiment: str = "scale-vs-classes-smoke") -> dict[str, str]:
    """A FAILED trial (one epoch logged, a failure reason) and a RUNNING one (still training)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment).experiment_id
    out = {}
    for status in ("FAILED", "RUNNING"):
        run = client.create_run(exp, tags={"trial_status": "failed"} if status == "FAILED" else {})
        for k, v in trial_params(10, 4.0).items():
            client.log_param(run.info.run_id, k, v)
        client.log_metric(run.info.run_id, "val_accuracy", 0.2, step=1)
        if status == "FAILED":
            client.set_tag(run.info.run_id, "failure_reason", "TrialDiverged: loss term 'total' became nan")
            client.set_terminated(run.info.run_id, "FAILED")
        out[status] = run.info.run_id
    return out
