"""Builds OptunaSearch + a trial scheduler + Tuner + MLflow recording from a StudySpec."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study.callbacks import ProgressLine, RecordOutcome
from study.samplers import SAMPLERS, SCHEDULERS
from study.spec import StudySpec, total_epochs
from study.tracking import TrialRecorder, client, experiment_id_for, retry
from search_spaces import compose


@dataclass(frozen=True)
class StudyOutcome:
    experiment_id: str
    parent_run_id: str
    trials: int
    failed: int


def start_ray(address: str) -> None:
    """Connect to a cluster when an address is given, else start a local Ray quietly."""
    import ray

    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # MLflow is the record
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no tables; our progress line instead
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = dict(logging_level=logging.WARNING, log_to_driver=False)
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(include_dashboard=False, **kwargs)


def concurrency(spec: StudySpec) -> int:
    import ray

    if spec.max_concurrent:
        return spec.max_concurrent
    cpus = ray.cluster_resources().get("CPU", 1)
    slots = int(cpus // spec.cpus_per_trial)
    if spec.gpus_per_trial:
        slots = min(slots, int(ray.cluster_resources().get("GPU", 0) // spec.gpus_per_trial))
    return max(1, slots)


def _tuner(spec: StudySpec, group: dict[str, Any], index: int, recorder: TrialRecorder, storage: str,
           workers: int, outcome: RecordOutcome):
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from trainables.ray_trainable import trainable

    threads = max(1, int(spec.cpus_per_trial))
    fn = tune.with_parameters(trainable, recorder=recorder, threads_per_trial=threads, metrics=tuple(spec.metrics))
    resources = {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial}
    sampler = SAMPLERS.get(spec.sampler)(spec.seed + index, spec.grid)
    # The searcher holds the objective(s); Ray Tune's own metric stays unset (it takes only one).
    metric, mode = (spec.metrics, spec.modes) if spec.multi_objective else (spec.metric, spec.mode)
    searcher = OptunaSearch(space=compose(spec.spaces, spec.space_options, {**spec.base, **group}), sampler=sampler, metric=metric, mode=mode)
    scheduler = SCHEDULERS.get(spec.scheduler)(total_epochs(spec))
    if scheduler is not None:
        scheduler.set_search_properties(spec.metric, spec.mode)
    label = f"[{', '.join(f'{k}={v}' for k, v in group.items())}] " if group else ""
    return tune.Tuner(
        tune.with_resources(fn, resources),
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=spec.trials,
            max_concurrent_trials=workers,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=f"{spec.name}-group{index}",
            storage_path=storage,
            verbose=0,
            callbacks=[outcome, ProgressLine(spec.metrics[0], spec.modes[0], spec.trials, label)],
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )


def quiet_libraries() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_study(spec: StudySpec) -> StudyOutcome:
    """Run every group of the study; each trial becomes a nested MLflow run under one parent."""
    quiet_libraries()
    spec.trial_configs()  # validate before anything starts
    storage = spec.storage if "://" in spec.storage else str(Path(spec.storage).resolve())
    experiment_id = experiment_id_for(spec.tracking_uri, spec.name)
    c = client(spec.tracking_uri)
    tags = {"study": spec.name, "preset": spec.preset, "size": spec.size, "sampler": spec.sampler,
            "scheduler": spec.scheduler, "metric": spec.metric, "mode": spec.mode}
    parent = retry(lambda: c.create_run(experiment_id, tags={**tags, "role": "study"}, run_name=spec.name))
    parent_id = parent.info.run_id
    recorder = TrialRecorder(spec.tracking_uri, experiment_id, parent_id, tuple(sorted(tags.items())))
    start_ray(spec.address)
    workers = concurrency(spec)
    trials = failed = 0
    try:
        for index, group in enumerate(spec.groups):
            outcome = RecordOutcome(spec.tracking_uri)
            _tuner(spec, dict(group), index, recorder, storage, workers, outcome).fit()
            trials += len(outcome.outcomes)
            failed += sum(1 for status in outcome.outcomes.values() if status == "failed")
    except BaseException:
        retry(lambda: c.set_terminated(parent_id, status="KILLED"))
        raise
    retry(lambda: c.set_terminated(parent_id, status="FINISHED"))
    return StudyOutcome(experiment_id, parent_id, trials, failed)
