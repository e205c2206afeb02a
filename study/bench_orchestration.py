"""What Ray Tune + Optuna + MLflow cost: the same trials through ``run_study`` and in a plain loop.

The trial set is identical in both: the study uses Optuna's grid sampler over a fixed list of
learning rates (the ``lr`` space), the loop trains the same configs, and the learning rates
recorded in MLflow are checked against the list. Concurrency is 1 and every trial gets the
same torch threads, so the ratio is the orchestration's own cost. Importing the stack and
``ray.init`` are timed apart and left out of the ratio, and so is creating the tables of the
fresh sqlite store (5 to 7 s, once per store; reported as ``store_setup_s`` and in a second
ratio); the study's wall time runs from the call to ``run_study`` (after ``ray.init``) to its
return, so a worker's start-up and every trial's MLflow and checkpoint writes are inside it.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from trainables.config import TrialConfig
from trainables.routine import train

BENCH_STUDY = "bench-orchestration"
LR_LOW, LR_HIGH = 0.01, 0.1  # inside the `lr` space's range, so the grid values are valid suggestions


def learning_rates(trials: int) -> tuple[float, ...]:
    """``trials`` log-spaced learning rates in [LR_LOW, LR_HIGH], rounded so they print and compare exactly."""
    if trials == 1:
        return (LR_LOW,)
    ratio = (LR_HIGH / LR_LOW) ** (1.0 / (trials - 1))
    return tuple(round(LR_LOW * ratio**i, 6) for i in range(trials))


def time_stack_import() -> float:
    """Seconds to import Ray Tune, Optuna, MLflow and the Optuna searcher (0 if already imported)."""
    started = time.perf_counter()
    import mlflow  # noqa: F401
    import optuna  # noqa: F401
    import ray  # noqa: F401
    from ray import tune  # noqa: F401
    from ray.tune.search.optuna import OptunaSearch  # noqa: F401

    return time.perf_counter() - started


def loop_seconds(configs: Sequence[TrialConfig], threads: int) -> float:
    """Wall time of ``train()`` over ``configs`` in a plain Python loop."""
    torch.set_num_threads(threads)
    started = time.perf_counter()
    for cfg in configs:
        train(cfg, lambda metrics, **_: None)
    return time.perf_counter() - started


def _study_spec(base: dict[str, Any], lrs: tuple[float, ...], threads: int, workdir: Path):
    from study.spec import StudySpec

    return StudySpec(
        name=BENCH_STUDY, preset="bench", size="bench", trials=len(lrs), base=base,
        spaces=("lr",), sampler="grid", grid={"optim.lr": lrs}, scheduler="none", seed=0,
        cpus_per_trial=float(threads), max_concurrent=1, max_failures=0,
        tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}", storage=str(workdir / "results"),
    )


def _recorded_lrs(tracking_uri: str) -> list[float]:
    from study.tracking import client

    c = client(tracking_uri)
    experiment = c.get_experiment_by_name(BENCH_STUDY)
    runs = c.search_runs([experiment.experiment_id])
    return sorted(float(r.data.params["optim.lr"]) for r in runs if r.data.tags.get("role") != "study")


def measure_orchestration(base: dict[str, Any], trials: int, threads: int) -> dict[str, Any]:
    """Plain loop vs ``run_study`` on the same ``trials`` configs (``base`` plus one lr each)."""
    import ray

    from study.run import run_study, start_ray
    from study.tracking import experiment_id_for

    lrs = learning_rates(trials)
    base = {**base, "train.device": "cpu"}
    configs = [TrialConfig.from_flat({**base, "optim.lr": lr}) for lr in lrs]
    loop_before_s = loop_seconds(configs, threads)
    import_s = time_stack_import()
    was_running = ray.is_initialized()
    started = time.perf_counter()
    start_ray("")
    ray_startup_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="study-bench-") as directory:
        spec = _study_spec(base, lrs, threads, Path(directory))
        started = time.perf_counter()
        experiment_id_for(spec.tracking_uri, spec.name)  # a new sqlite store builds its tables once
        store_setup_s = time.perf_counter() - started
        started = time.perf_counter()
        outcome = run_study(spec)
        study_s = time.perf_counter() - started
        recorded = _recorded_lrs(spec.tracking_uri)
    if not was_running:
        ray.shutdown()
    loop_after_s = loop_seconds(configs, threads)
    loop_s = (loop_before_s + loop_after_s) / 2  # timed on both sides of the study, against drifting load
    identical = recorded == sorted(lrs) and outcome.failed == 0
    return {
        "orchestration_overhead": study_s / loop_s,
        "study_s": study_s,
        "loop_s": loop_s,
        "loop_before_after_s": [loop_before_s, loop_after_s],
        "overhead_per_trial_s": max(0.0, (study_s - loop_s) / trials),
        "orchestration_overhead_with_store_setup": (study_s + store_setup_s) / loop_s,
        "ray_startup_s": ray_startup_s,
        "store_setup_s": store_setup_s,
        "import_s": import_s,
        "trials": trials,
        "epochs_per_trial": configs[0].train.total_epochs,
        "learning_rates": list(lrs),
        "identical_trials": identical,
        "failed_trials": outcome.failed,
        "concurrency": 1,
        "tracking": "MLflow sqlite store in a temporary directory",
    }


__all__ = ["learning_rates", "loop_seconds", "measure_orchestration", "time_stack_import"]
