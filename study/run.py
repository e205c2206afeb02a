"""Builds OptunaSearch + a trial scheduler + Tuner + MLflow recording from a StudySpec.

Layout under ``spec.storage``: ``<name>/study.json`` (the spec, for ``study resume``) and
``<name>/group<i>/`` (Ray Tune's experiment state, the searcher's Optuna history and each
trial's last checkpoint), so any node that sees the storage can resume a trial or the study.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from study.callbacks import ProgressLine, RecordOutcome
from study.errors import UsageError
from study.samplers import SAMPLERS, SCHEDULERS
from study.spec import StudySpec, save_spec, study_dir, total_epochs
from study.tracking import TrialRecorder, client, experiment_id_for, find_parent_run, retire_orphans, retry
from search_spaces import compose


@dataclass(frozen=True)
class StudyOutcome:
    experiment_id: str
    parent_run_id: str
    trials: int
    failed: int
    interrupted: bool


def start_ray(address: str) -> None:
    """Connect to the cluster at ``address`` (never starting one), or start a local Ray quietly."""
    import ray

    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # MLflow is the record
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no tables; our progress line instead
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = dict(logging_level=logging.WARNING, log_to_driver=False)
    if not address:
        ray.init(include_dashboard=False, **kwargs)
        return
    ray.init(address=check_ray_address(address), **kwargs)


def check_ray_address(address: str, timeout_s: float = 5.0) -> str:
    """Resolve ``auto`` and make sure a Ray head answers there, failing in seconds instead of
    retrying for minutes."""
    import socket

    from ray._private.services import canonicalize_bootstrap_address

    try:
        resolved = canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError) as exc:
        raise UsageError(f"--address {address}: {str(exc).strip().splitlines()[0]}") from None
    if resolved is None:
        raise UsageError(f"--address {address}: no running Ray cluster found on this machine (start one with `ray start --head`)")
    host, _, port = resolved.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise UsageError(f"--address {address}: no Ray cluster answers at {resolved} ({exc})") from None
    return resolved


def concurrency(spec: StudySpec) -> int:
    import ray

    if spec.max_concurrent:
        return spec.max_concurrent
    cpus = ray.cluster_resources().get("CPU", 1)
    slots = int(cpus // spec.cpus_per_trial)
    if spec.gpus_per_trial:
        slots = min(slots, int(ray.cluster_resources().get("GPU", 0) // spec.gpus_per_trial))
    return max(1, slots)


def _trainable(spec: StudySpec, recorder: TrialRecorder):
    from ray import tune

    from trainables.ray_trainable import trainable

    threads = max(1, int(spec.cpus_per_trial))
    fn = tune.with_parameters(trainable, recorder=recorder, threads_per_trial=threads, objectives=tuple(spec.metrics),
                              checkpoint_every_s=spec.checkpoint_every_s)
    return tune.with_resources(fn, {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial})


def _callbacks(spec: StudySpec, group: dict[str, Any]) -> tuple[RecordOutcome, ProgressLine]:
    label = f"[{', '.join(f'{k}={v}' for k, v in group.items())}] " if group else ""
    return RecordOutcome(spec.tracking_uri, spec.trials), ProgressLine(spec.metrics[0], spec.modes[0], spec.trials, label)


def _new_tuner(spec: StudySpec, group: dict[str, Any], index: int, trainable: Any, workers: int, callbacks: tuple):
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    sampler = SAMPLERS.get(spec.sampler)(spec.seed + index, spec.grid)
    # The searcher holds the objective(s); Ray Tune's own metric stays unset (it takes only one).
    metric, mode = (spec.metrics, spec.modes) if spec.multi_objective else (spec.metric, spec.mode)
    searcher = OptunaSearch(space=compose(spec.spaces, spec.space_options, {**spec.base, **group}),
                            sampler=sampler, metric=metric, mode=mode)
    scheduler = SCHEDULERS.get(spec.scheduler)(total_epochs(spec))
    if scheduler is not None:
        scheduler.set_search_properties(spec.metric, spec.mode)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=spec.trials,
                                    max_concurrent_trials=workers, reuse_actors=True),
        run_config=tune.RunConfig(
            name=f"group{index}",
            storage_path=study_dir(spec),
            verbose=0,
            callbacks=list(callbacks),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )


def _restored_tuner(path: str, trainable: Any, callbacks: tuple):
    """Ray Tune's own restore: finished trials stay, unfinished and errored ones resume from their
    checkpoints, and the searcher comes back with its Optuna history."""
    from ray import tune

    tuner = tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=True)
    tuner._local_tuner._run_config.callbacks = list(callbacks)  # fresh callbacks for this driver
    return tuner


def quiet_libraries() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_study(spec: StudySpec, resume: bool = False) -> StudyOutcome:
    """Run (or resume) every group of the study; each trial is one nested MLflow run under one parent."""
    from ray import tune

    quiet_libraries()
    spec.trial_configs()  # validate before anything starts
    start_ray(spec.address)
    save_spec(spec)
    experiment_id = experiment_id_for(spec.tracking_uri, spec.name)
    c = client(spec.tracking_uri)
    tags = {"study": spec.name, "preset": spec.preset, "size": spec.size, "sampler": spec.sampler,
            "scheduler": spec.scheduler, "metric": spec.metric, "mode": spec.mode}
    parent_id = find_parent_run(spec.tracking_uri, experiment_id, spec.name) if resume else None
    if parent_id is None:
        parent_id = retry(lambda: c.create_run(experiment_id, tags={**tags, "role": "study"}, run_name=spec.name)).info.run_id
    else:
        retry(lambda: c.update_run(parent_id, status="RUNNING"))
    recorder = TrialRecorder(spec.tracking_uri, experiment_id, parent_id, tuple(sorted(tags.items())))
    trainable = _trainable(spec, recorder)
    workers = concurrency(spec)
    trials = failed = 0
    interrupted = False
    try:
        for index, group in enumerate(spec.groups):
            callbacks = _callbacks(spec, dict(group))
            path = os.path.join(study_dir(spec), f"group{index}")
            if resume and tune.Tuner.can_restore(path):
                tuner = _restored_tuner(path, trainable, callbacks)
            else:
                tuner = _new_tuner(spec, dict(group), index, trainable, workers, callbacks)
            tuner.fit()
            outcome = callbacks[0]
            trials += len(outcome.outcomes)
            failed += sum(1 for status in outcome.outcomes.values() if status == "failed")
            if outcome.unfinished:
                interrupted = True
                break
    except BaseException:
        retry(lambda: c.set_terminated(parent_id, status="KILLED"))
        raise
    if resume and not interrupted:
        retire_orphans(spec.tracking_uri, experiment_id, parent_id)
    retry(lambda: c.set_terminated(parent_id, status="KILLED" if interrupted else "FINISHED"))
    return StudyOutcome(experiment_id, parent_id, trials, failed, interrupted)
