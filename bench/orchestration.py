"""What Ray Tune + Optuna + MLflow cost: the same trials through ``run_study`` and in a plain loop.

The trial set is identical in both: the study uses Optuna's grid sampler over a fixed list of
values of one searched key in each group (a ``TrialSet``: for the main job, its class counts),
the loop trains the same configs, and the values recorded in MLflow are checked against the
list. Concurrency is 1 and every trial gets the same torch threads, so the ratio is the
orchestration's own cost. A trial's own work is in both:
training, evaluation and its artifact files (the loop writes them to a temporary directory).
The study adds a Ray worker, Optuna, the MLflow runs and uploads, and checkpoints.
Importing the stack and ``ray.init`` are timed apart and left out of the ratio, and so is
creating the tables of the fresh sqlite store (once per store; reported as ``store_setup_s``
and in a second ratio); the study's wall time runs from the call to ``run_study`` (after
``ray.init``) to its return, so a worker's start-up is inside it. The loop runs before the study
and, on some of its trials, again after it: the ratio of the two corrects the loop's time for
load that drifts while the study runs (``loop_drift``; 1.0 = none). The loop's first trial is never
among them: it alone pays the process's first use of torch's kernels (as the study's first trial
pays a fresh worker's), which the second pass would not, and would pass for drift.

The study's extra time is split into what it pays once (``first_trial_start_s``: from the call
to the first trial run's creation in MLflow: Tune's start, a worker process and its imports;
``first_trial_extra_s``: how much longer that first run takes than the same trial in the loop:
the imports and kernels a fresh process needs on first use) and per trial (the rest, spread over
the trials: ``steady_overhead_per_trial_s``), which gives the overhead projected for 100 trials.
``orchestration_overhead_cpu`` is the ratio on CPU seconds: every process of the study (driver,
GCS, raylet, workers; ``ProcessTreeCPU``) over the loop's process, steadier than wall seconds when
other jobs share the cores; it counts no waiting, and Ray's processes may run beside a trial.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench.timing import timed_trial
from trainables.config import TrialConfig

BENCH_STUDY = "bench-orchestration"


@dataclass(frozen=True)
class TrialSet:
    """Trials that differ in one searched key: ``base`` plus each of ``groups`` (one Optuna study
    each, as the main job's class counts) plus ``key`` on a log grid in [low, high] (inside the
    range of the search space ``space``, so the grid values are valid suggestions)."""

    label: str  # what the trials are, for the table
    base: Mapping[str, Any]  # flat TrialConfig values
    space: str  # search_spaces registry key that suggests ``key``
    key: str
    low: float
    high: float
    groups: tuple[Mapping[str, Any], ...] = ({},)

    def values(self, per_group: int) -> tuple[float, ...]:
        """``per_group`` log-spaced values, rounded so they print and compare exactly."""
        if per_group == 1:
            return (self.low,)
        ratio = (self.high / self.low) ** (1.0 / (per_group - 1))
        return tuple(round(self.low * ratio**i, 6) for i in range(per_group))

    def flats(self, per_group: int) -> list[dict[str, Any]]:
        return [
            {**self.base, **g, "train.device": "cpu", self.key: v}
            for g in self.groups
            for v in self.values(per_group)
        ]

    def configs(self, per_group: int) -> list[TrialConfig]:
        return [TrialConfig.from_flat(flat) for flat in self.flats(per_group)]

    def identity(self, flat: Mapping[str, Any]) -> tuple[str, ...]:
        """What tells the trials apart: the searched value and the group's keys, as MLflow params."""
        keys = sorted({k for g in self.groups for k in g})
        return (str(float(flat[self.key])), *(str(flat[k]) for k in keys))


class ProcessTreeCPU:
    """CPU seconds of this process and all its descendants (the Ray processes a local ``ray.init``
    starts: GCS, raylet, workers) while the block runs: each process is sampled every
    ``every_s`` seconds, so one that ends in between loses at most that long of its CPU time."""

    def __init__(self, every_s: float = 0.5) -> None:
        import psutil

        self.me, self.every_s, self.seconds = psutil.Process(), every_s, 0.0
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def _sample(self) -> dict[int, float]:
        import psutil

        out = {}
        for p in [self.me, *self.me.children(recursive=True)]:
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except psutil.Error:  # ended between the listing and the reading
                pass
        return out

    def __enter__(self) -> ProcessTreeCPU:
        import threading

        self._start = self._sample()
        self._done = threading.Event()

        def watch() -> None:
            while not self._done.wait(self.every_s):
                self._last.update(self._sample())

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join()
        self._last.update(self._sample())
        self.seconds = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())


def time_stack_import() -> float:
    """Seconds to import Ray Tune, Optuna, MLflow and the Optuna searcher (0 if already imported)."""
    started = time.perf_counter()
    import mlflow  # noqa: F401
    import optuna  # noqa: F401
    import ray  # noqa: F401
    from ray import tune  # noqa: F401
    from ray.tune.search.optuna import OptunaSearch  # noqa: F401

    return time.perf_counter() - started


def loop_trials(configs: Sequence[TrialConfig], threads: int) -> list[dict[str, Any]]:
    """``train()`` over ``configs`` in a plain Python loop, each trial writing its artifacts as it
    does in a study; every trial timed (bench.timing.timed_trial: wall, CPU, evaluation)."""
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="study-bench-loop-") as directory:
        return [
            timed_trial(cfg, artifacts_dir=str(Path(directory) / f"trial{i}"))
            for i, cfg in enumerate(configs)
        ]


def _study_spec(trial_set: TrialSet, per_group: int, threads: int, workdir: Path):
    from study.spec import StudySpec

    return StudySpec(
        name=BENCH_STUDY,
        preset="bench",
        size="bench",
        trials=per_group,
        base={**trial_set.base, "train.device": "cpu"},
        groups=trial_set.groups,
        spaces=(trial_set.space,),
        sampler="grid",
        grid={trial_set.key: trial_set.values(per_group)},
        scheduler="none",
        seed=0,
        cpus_per_trial=float(threads),
        max_concurrent=1,
        max_failures=0,
        tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        storage=str(workdir / "results"),
    )


def _recorded(tracking_uri: str, trial_set: TrialSet) -> list[tuple[tuple[str, ...], float, float]]:
    """The recorded trial runs in the order they started: what tells each apart
    (TrialSet.identity of its params), its start and its end (epoch seconds)."""
    from study.tracking import client

    c = client(tracking_uri)
    experiment = c.get_experiment_by_name(BENCH_STUDY)
    runs = [
        r for r in c.search_runs([experiment.experiment_id]) if r.data.tags.get("role") != "study"
    ]
    return sorted(
        (
            (
                trial_set.identity(r.data.params),
                r.info.start_time / 1000.0,
                r.info.end_time / 1000.0,
            )
            for r in runs
        ),
        key=lambda run: run[1],
    )


def overhead_interval(
    fixed_s: float, study_trial_s: Sequence[float], loop_trial_s: Sequence[float]
) -> tuple[float, float]:
    """95% bootstrap interval (BCa, scipy.stats.bootstrap) of (fixed_s + sum of the study's trials)
    over the sum of the loop's, resampling trials as pairs (a trial in the study and its twin in the
    loop): the spread that the trials' own scatter leaves in the ratio."""
    import numpy as np
    from scipy.stats import bootstrap

    def ratio(study: np.ndarray, loop: np.ndarray, axis: int = -1) -> np.ndarray:
        return (fixed_s + study.sum(axis=axis)) / loop.sum(axis=axis)

    result = bootstrap(
        (np.asarray(study_trial_s), np.asarray(loop_trial_s)),
        ratio,
        paired=True,
        vectorized=True,
        n_resamples=4000,
        random_state=0,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


PROJECTED_TRIALS = (20, 100)


def projected_overhead(trials: int, trial_s: float, steady_s: float, once_s: float) -> float:
    """The overhead of a study of ``trials`` trials of ``trial_s`` seconds each: each trial pays
    ``steady_s`` more, the study ``once_s`` (Tune's start and a fresh worker's first trial) once."""
    return (trials * (trial_s + steady_s) + once_s) / (trials * trial_s)


def measure_orchestration(
    trial_set: TrialSet,
    per_group: int,
    threads: int,
    drift_every: int = 1,
    before: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Plain loop vs ``run_study`` on the same trials of ``trial_set`` (``per_group`` per group).

    The loop runs before the study (``before``: its timings, when already measured) and, against
    load that drifts, again after it on every ``drift_every``-th trial (but its first); the loop's time is the
    before-time scaled by the mean of the two sides' ratio on those trials (after/before)."""
    import ray

    from study.run import run_study, start_ray
    from study.tracking import experiment_id_for

    configs = trial_set.configs(per_group)
    before = before if before is not None else loop_trials(configs, threads)
    import_s = time_stack_import()
    was_running = ray.is_initialized()
    started = time.perf_counter()
    start_ray("")
    ray_startup_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="study-bench-") as directory:
        spec = _study_spec(trial_set, per_group, threads, Path(directory))
        started = time.perf_counter()
        experiment_id_for(spec.tracking_uri, spec.name)  # a new sqlite store builds its tables once
        store_setup_s = time.perf_counter() - started
        started, started_at = time.perf_counter(), time.time()
        with ProcessTreeCPU() as study_cpu:
            outcome = run_study(spec)
        study_s = time.perf_counter() - started
        runs = _recorded(spec.tracking_uri, trial_set)
    if not was_running:
        ray.shutdown()
    # the last of every ``drift_every`` trials but never the loop's first, which alone pays a
    # cold process's first use of its kernels before the study and would pass for drift after it
    every = max(1, drift_every)
    again = [i for i in range(every - 1, len(configs), every) if i > 0] or [0]
    after = loop_trials([configs[i] for i in again], threads)
    before_s = sum(t["wall_s"] for t in before)
    drift = sum(t["wall_s"] for t in after) / sum(before[i]["wall_s"] for i in again)
    # the loop's time at the study's midpoint, drift taken as linear
    loop_s = before_s * (1 + drift) / 2
    before_cpu_s = sum(t["cpu_s"] for t in before)
    drift_cpu = sum(t["cpu_s"] for t in after) / sum(before[i]["cpu_s"] for i in again)
    loop_cpu_s = before_cpu_s * (1 + drift_cpu) / 2
    flats = trial_set.flats(per_group)
    identical = (
        sorted(identity for identity, _, _ in runs) == sorted(trial_set.identity(f) for f in flats)
        and outcome.failed == 0
    )
    trials = len(configs)
    # each trial in the loop, corrected for drift, by what tells it apart
    twin = {trial_set.identity(f): t["wall_s"] * (1 + drift) / 2 for f, t in zip(flats, before)}
    # Tune's start, a fresh worker and its imports: once per study
    first_identity, first_trial_at, first_end = runs[0]
    first_trial_start_s = first_trial_at - started_at
    # the first trial's run outlasts its loop twin by what a fresh worker pays once: the imports
    # and kernels that its first evaluation and artifacts need, MLflow's first requests
    first_run_s = first_end - first_trial_at
    first_trial_extra_s = max(0.0, first_run_s - twin.get(first_identity, first_run_s))
    # every trial's own share
    steady_s = max(0.0, (study_s - loop_s - first_trial_start_s - first_trial_extra_s) / trials)
    trial_s = loop_s / trials
    # per trial in the study: its run and the gap before it; what is left is paid once
    ends = [first_trial_at] + [end for _, _, end in runs[:-1]]
    study_trial_s = [end - previous for (_, _, end), previous in zip(runs, ends)]
    loop_trial_s = [twin.get(identity, float("nan")) for identity, _, _ in runs]
    interval = (
        overhead_interval(study_s - sum(study_trial_s), study_trial_s, loop_trial_s)
        if identical and trials > 2
        else (float("nan"), float("nan"))
    )
    return {
        "orchestration_overhead": study_s / loop_s,
        # the 95% interval that the trials' own scatter leaves (overhead_interval)
        "orchestration_overhead_interval": interval,
        "orchestration_overhead_without_drift_correction": study_s / before_s,
        # CPU seconds of every process of the study (driver, Ray's GCS, raylet and workers) over the
        # loop's: what the study costs the cores, which other jobs on them disturb far less
        "orchestration_overhead_cpu": study_cpu.seconds / loop_cpu_s,
        "study_cpu_s": study_cpu.seconds,
        "loop_cpu_s": loop_cpu_s,
        "loop_drift_cpu": drift_cpu,
        "study_s": study_s,
        "loop_s": loop_s,
        "loop_before_s": before_s,
        "loop_drift": drift,
        "drift_trials": len(again),
        "overhead_per_trial_s": max(0.0, (study_s - loop_s) / trials),
        "first_trial_start_s": first_trial_start_s,
        "steady_overhead_per_trial_s": steady_s,
        "first_trial_extra_s": first_trial_extra_s,
        # the same parts over other numbers of these trials: the minimum the target names, and a
        # stage of the main job (over 100 trials)
        **{
            f"projected_overhead_{n}_trials": projected_overhead(
                n, trial_s, steady_s, first_trial_start_s + first_trial_extra_s
            )
            for n in PROJECTED_TRIALS
        },
        "orchestration_overhead_with_store_setup": (study_s + store_setup_s) / loop_s,
        "ray_startup_s": ray_startup_s,
        "store_setup_s": store_setup_s,
        "import_s": import_s,
        "trials": trials,
        "trial_s": trial_s,
        "trial_set": trial_set.label,
        "epochs_per_trial": sorted({c.train.total_epochs for c in configs}),
        "searched": {trial_set.key: list(trial_set.values(per_group))},
        "identical_trials": identical,
        "failed_trials": outcome.failed,
        "concurrency": 1,
        "threads_per_trial": threads,
        "tracking": "MLflow sqlite store in a temporary directory",
    }


__all__ = [
    "ProcessTreeCPU",
    "TrialSet",
    "loop_trials",
    "measure_orchestration",
    "overhead_interval",
    "projected_overhead",
    "time_stack_import",
]
