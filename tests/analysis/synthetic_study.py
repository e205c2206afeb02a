"""Synthetic studies with a known optimum-scale law, as DataFrames and as real MLflow runs (no mocks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

TRUE_A, TRUE_B = 2.0, 3.0  # s*(C) = 2 ln(C - 1) + 3
CLASS_COUNTS = (5, 10, 20, 50, 100, 200)


def true_optimum(c: int) -> float:
    return TRUE_A * math.log(c - 1) + TRUE_B


def synthetic_trials(
    class_counts=CLASS_COUNTS, per_class: int = 40, noise: float = 0.005, seed: int = 0
) -> pd.DataFrame:
    """Trials whose accuracy peaks at s*(C) in ln s: 0.9 - 0.05 (ln s - ln s*)^2 + N(0, noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in class_counts:
        for i in range(per_class):
            s = float(np.exp(rng.uniform(0.0, math.log(64.0))))
            value = (
                0.9 - 0.05 * (math.log(s) - math.log(true_optimum(c))) ** 2 + rng.normal(0.0, noise)
            )
            rows.append(
                {
                    "run_id": f"run-{c}-{i}",
                    "experiment": "scale-vs-classes-smoke",
                    "status": "FINISHED",
                    "start_time": pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=len(rows)),
                    "param:data.num_classes": c,
                    "param:scale.start": s,
                    "param:scale.schedule": "constant",
                    "param:loss.output": "normface",
                    "param:optim.lr": float(rng.uniform(0.01, 0.1)),
                    "metric:val_accuracy": value,
                    "metric:test_accuracy": value - 0.01,
                    "tag:trial_status": "finished",
                    "tag:preset": "scale-vs-classes",
                }
            )
    return pd.DataFrame(rows)


def peak(log_s, log_star, curvature: float = 0.05, asymmetry: float = 1.0, top: float = 0.9):
    """A peak in ln s: top - k u^2 with k = curvature below the optimum, curvature * asymmetry above it."""
    u = np.asarray(log_s, dtype=float) - log_star
    return top - np.where(u < 0, curvature, curvature * asymmetry) * u**2


def designed_trials(
    class_counts=(17, 33, 65, 129, 257),
    optimum=lambda c: math.sqrt(2) * math.log(c - 1),
    *,
    seeds=(0, 1, 2),
    points: int = 7,
    half_width: float = 1.0,
    offset: float = 0.0,
    curvature: float = 0.05,
    asymmetry: float = 1.0,
    noise: float = 0.005,
    seed_effect: float = 0.01,
    screen: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """A two-stage study as ``load_trials`` returns it: per C, a screen (tag stage=screen, one seed, values that
    must never be fitted: 0.0) and the estimation stage, ``points`` scales across +-``half_width`` ln units
    around ln s*(C) + ``offset`` on every seed (a seed shifts all its trials at that C)."""
    rng = np.random.default_rng(seed)
    rows = []

    def row(c, s, value, seed_, stage, status="finished"):
        rows.append(
            {
                "run_id": f"run-{len(rows)}",
                "experiment": "scale-vs-classes-cpu",
                "status": "FINISHED",
                "param:data.num_classes": c,
                "param:scale.start": float(s),
                "param:scale.schedule": "constant",
                "param:loss.output": "normface",
                "param:train.seed": seed_,
                "param:data.subset_seed": seed_,
                "metric:val_accuracy": float(value),
                "tag:trial_status": status,
                "tag:stage": stage,
            }
        )

    for c in class_counts:
        star = math.log(optimum(c))
        if screen:
            for s in np.geomspace(0.5, 64.0, 8):
                row(c, s, 0.0, seeds[0], "screen")
        window = np.linspace(-half_width, half_width, points) + star + offset
        for seed_ in seeds:
            shift = rng.normal(0.0, seed_effect)
            for x in window:
                row(
                    c,
                    math.exp(x),
                    peak(x, star, curvature, asymmetry) + shift + rng.normal(0.0, noise),
                    seed_,
                    "estimate",
                )
    return pd.DataFrame(rows)


def trial_params(c: int, scale: float) -> dict[str, str]:
    """The flat TrialConfig of a tiny glyphs trial, as MLflow stores it (strings)."""
    from trainables.config import TrialConfig

    cfg = TrialConfig.from_flat(
        {
            "data.name": "glyphs",
            "data.num_classes": c,
            "data.max_per_class": 30,
            "loss.output": "normface",
            "scale.start": scale,
            "train.epochs": 1,
            "train.device": "cpu",
            "train.threads": 1,
        }
    )
    return {k: str(v) for k, v in cfg.to_flat().items()}


def artifact_location(uri: str, experiment: str) -> str | None:
    """Beside a sqlite store, as `study run` keeps them: MLflow's default is ./mlruns in the
    working directory, where a test's `study report` would leave the report it attaches."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri[len("sqlite:///") :]).parent / "mlartifacts" / experiment).as_uri()


def fill_store(
    uri: str, trials: pd.DataFrame, experiment: str = "scale-vs-classes-smoke"
) -> dict[str, str]:
    """Record ``trials`` as real MLflow runs under a study parent run; returns synthetic id -> run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(experiment, artifact_location=artifact_location(uri, experiment))
    parent = client.create_run(
        exp, tags={"role": "study", "study": experiment, "metric": "val_accuracy", "mode": "max"}
    )
    client.set_terminated(parent.info.run_id, "FINISHED")
    ids = {}
    for _, row in trials.iterrows():
        run = client.create_run(
            exp,
            tags={
                "mlflow.parentRunId": parent.info.run_id,
                "study": experiment,
                "preset": "scale-vs-classes",
                "metric": "val_accuracy",
                "mode": "max",
            },
        )
        params = trial_params(int(row["param:data.num_classes"]), float(row["param:scale.start"]))
        metrics = [
            Metric("val_accuracy", float(row["metric:val_accuracy"]) - 0.1, 0, 1),
            Metric("val_accuracy", float(row["metric:val_accuracy"]), 0, 2),
            Metric("test_accuracy", float(row["metric:test_accuracy"]), 0, 2),
            Metric("scale", float(row["param:scale.start"]), 0, 2),
        ]
        client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[
                RunTag("trial_status", "finished"),
                RunTag("class_count", str(row["param:data.num_classes"])),
            ],
        )
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
            client.set_tag(
                run.info.run_id, "failure_reason", "TrialDiverged: loss term 'total' became nan"
            )
            client.set_terminated(run.info.run_id, "FAILED")
        out[status] = run.info.run_id
    return out
