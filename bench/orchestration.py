"""What Ray Tune + Optuna + MLflow cost: the same trials through ``run_study`` and in a plain loop.

The trial set is identical in both: the study uses Optuna's grid sampler over a fixed list of
values of one searched key (a ``TrialSet``), the loop trains the same configs, and the values
recorded in MLflow are checked against the list. Concurrency is 1 and every trial gets the same
torch threads, so the ratio is the orchestration's own cost. A trial's own work is in both:
training, evaluation and its artifact files (the loop writes them to a temporary directory).
The study adds a Ray worker, Optuna, the MLflow runs and uploads, and checkpoints.
Importing the stack and ``ray.init`` are timed apart and left out of the ratio, and so is
creating the tables of the fresh sqlite store (once per store; reported as ``store_setup_s``
and in a second ratio); the study's wall time runs from the call to ``run_study`` (after
``ray.init``) to its return, so a worker's start-up is inside it.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from trainables.config import TrialConfig
from trainables.routine import train

BENCH_STUDY = "bench-orchestration"


@dataclass(frozen=True)
class TrialSet:
    """Trials that differ in one searched key: ``base`` plus ``key`` on a log grid in [low, high]
    (inside the range of the search space ``space``, so the grid values are valid suggestions)."""

    label: str  # what the trials are, for the table
    base: Mapping[str, Any]  # flat TrialConfig values
    space: str  # search_spaces registry key that suggests ``key``
    key: str
    low: float
    high: float

    def values(self, trials: int) -> tuple[float, ...]:
        """``trials`` log-spaced values, rounded so they print and compare exactly."""
        if trials == 1:
            return (self.low,)
        ratio = (self.high / self.low) ** (1.0 / (trials - 1))
        return tuple(round(self.low * ratio**i, 6) for i in range(trials))

    def configs(self, trials: int) -> list[TrialConfig]:
        return [TrialConfig.from_flat({**self.base, "train.device": "cpu", self.key: v}) for v in self.values(trials)]


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
    """Wall time of ``train()`` over ``configs`` in a plain Python loop, each trial writing its
    artifacts as it does in a study."""
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="study-bench-loop-") as directory:
        started = time.perf_counter()
        for i, cfg in enumerate(configs):
            train(cfg, lambda metrics, **_: None, artifacts_dir=str(Path(directory) / f"trial{i}"))
        return time.perf_counter() - started


def _study_spec(trial_set: TrialSet, values: tuple[float, ...], threads: int, workdir: Path):
    from study.spec import StudySpec

    return StudySpec(
        name=BENCH_STUDY, preset="bench", size="bench", trials=len(values), base={**trial_set.base, "train.device": "cpu"},
        spaces=(trial_set.space,), sampler="grid", grid={trial_set.key: values}, scheduler="none", seed=0,
        cpus_per_trial=float(threads), max_concurrent=1, max_failures=0,
        tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}", storage=str(workdir / "results"),
    )


def _recorded(tracking_uri: str, key: str) -> tuple[list[float], float]:
    """The searched values the trial runs recorded, and the first trial run's start (epoch seconds)."""
    from study.tracking import client

    c = client(tracking_uri)
    experiment = c.get_experiment_by_name(BENCH_STUDY)
    runs = [r for r in c.search_runs([experiment.experiment_id]) if r.data.tags.get("role") != "study"]
    return sorted(float(r.data.params[key]) for r in runs), min(r.info.start_time for r in runs) / 1000.0


def measure_orchestration(trial_set: TrialSet, trials: int, threads: int) -> dict[str, Any]:
    """Plain loop vs ``run_study`` on the same ``trials`` configs of ``trial_set``."""
    import ray

    from study.run import run_study, start_ray
    from study.tracking import experiment_id_for

    values = trial_set.values(trials)
    configs = trial_set.configs(trials)
    loop_before_s = loop_seconds(configs, threads)
    import_s = time_stack_import()
    was_running = ray.is_initialized()
    started = time.perf_counter()
    start_ray("")
    ray_startup_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="study-bench-") as directory:
        spec = _study_spec(trial_set, values, threads, Path(directory))
        started = time.perf_counter()
        experiment_id_for(spec.tracking_uri, spec.name)  # a new sqlite store builds its tables once
        store_setup_s = time.perf_counter() - started
        started, started_at = time.perf_counter(), time.time()
        outcome = run_study(spec)
        study_s = time.perf_counter() - started
        recorded, first_trial_at = _recorded(spec.tracking_uri, trial_set.key)
    if not was_running:
        ray.shutdown()
    loop_after_s = loop_seconds(configs, threads)
    loop_s = (loop_before_s + loop_after_s) / 2  # timed on both sides of the study, against drifting load
    identical = recorded == sorted(values) and outcome.failed == 0
    first_trial_start_s = first_trial_at - started_at  # Tune's start, a fresh worker and its imports: once per study
    steady_s = max(0.0, (study_s - loop_s - first_trial_start_s) / trials)  # every trial's own share
    trial_s = loop_s / trials
    return {
        "orchestration_overhead": study_s / loop_s,
        "study_s": study_s,
        "loop_s": loop_s,
        "loop_before_after_s": [loop_before_s, loop_after_s],
        "overhead_per_trial_s": max(0.0, (study_s - loop_s) / trials),
        "first_trial_start_s": first_trial_start_s,
        "steady_overhead_per_trial_s": steady_s,
        "projected_overhead_100_trials": (100 * (trial_s + steady_s) + first_trial_start_s) / (100 * trial_s),
        "orchestration_overhead_with_store_setup": (study_s + store_setup_s) / loop_s,
        "ray_startup_s": ray_startup_s,
        "store_setup_s": store_setup_s,
        "import_s": import_s,
        "trials": trials,
        "trial_s": trial_s,
        "trial_set": trial_set.label,
        "epochs_per_trial": configs[0].train.total_epochs,
        "searched": {trial_set.key: list(values)},
        "identical_trials": identical,
        "failed_trials": outcome.failed,
        "concurrency": 1,
        "tracking": "MLflow sqlite store in a temporary directory",
    }


__all__ = ["TrialSet", "loop_seconds", "measure_orchestration", "time_stack_import"]
