"""Builds OptunaSearch + a trial scheduler + Tuner + MLflow recording from a StudySpec.

Layout under ``spec.storage``: ``<name>/study.json`` (the spec, for ``study resume``) and
``<name>/trials/`` (Ray Tune's experiment state for every group's trials, each group's searcher
with its Optuna history, and each trial's last checkpoint), so any node that sees the storage can
resume a trial or the study. The groups (e.g. class counts) run in that one Tune experiment,
side by side (study.group_search), so the cluster does not idle at the tail of each group.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Any

from search_spaces import compose
from study import optuna_store, parent_run
from study.callbacks import ProgressLine, RecordOutcome
from study.data_identity import DataIdentity
from study.errors import UsageError
from study.relay import Relay, RelayStopper, register
from study.samplers import SAMPLERS, SCHEDULERS
from study.spec import StudySpec, save_spec, total_epochs
from study.stages import Stage, next_stage, result_rows
from study.tracking import (
    NOTE,
    client,
    experiment_id_for,
    find_parent_run,
    retire_orphans,
    retry,
    source_tags,
)
from study.trial_run import TrialRecorder


@dataclass(frozen=True)
class StudyOutcome:
    experiment_id: str
    parent_run_id: str
    trials: int
    failed: int
    interrupted: bool


def start_ray(address: str) -> None:
    """Join the cluster at ``address`` (never starting one), or start a new local Ray quietly
    (see study.cluster: a local run never joins another cluster on this machine)."""
    from study.cluster import connect

    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # MLflow is the record
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # with verbose=0: no tables; our progress line instead
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    connect(address)


def concurrency(spec: StudySpec) -> int | None:
    """The user's cap on concurrent trials, or None: Ray Tune then starts a trial whenever the
    cluster has room for one, so trials follow the cluster as it grows (autoscaling) or shrinks."""
    return spec.max_concurrent or None


def _trainable(spec: StudySpec, recorder: TrialRecorder):
    from ray import tune

    from trainables.ray_trainable import trainable

    threads = max(1, int(spec.cpus_per_trial))
    fn = tune.with_parameters(
        trainable,
        recorder=recorder,
        threads_per_trial=threads,
        objectives=tuple(spec.metrics),
        checkpoint_every_s=spec.checkpoint_every_s,
    )
    return tune.with_resources(fn, {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial})


TUNER_NAME = "trials"  # Ray Tune's experiment (every group's trials) under study_dir(spec)


def _callbacks(spec: StudySpec, recorder: TrialRecorder) -> tuple[RecordOutcome, ProgressLine]:
    planned = spec.trials * len(spec.groups)
    return RecordOutcome(recorder, planned), ProgressLine(spec.metrics[0], spec.modes[0], planned)


def _group_search(
    spec: StudySpec, group: dict[str, Any], index: int, optuna_prefix: str
) -> tuple[Any, Any]:
    """The searcher (its own Optuna study) and trial scheduler of one group."""
    from ray.tune.search.optuna import OptunaSearch

    sampler = SAMPLERS.get(spec.sampler)(spec.seed + index, spec.grid_of(index))
    # The searcher holds the objective(s); Ray Tune's own metric stays unset (it takes only one).
    metric, mode = (spec.metrics, spec.modes) if spec.multi_objective else (spec.metric, spec.mode)
    # The sampler's study lives in Optuna storage (see study.optuna_store), where optuna.load_study
    # and optuna-dashboard find it; the searcher's pickled state keeps the storage for resume.
    storage = optuna_store.open_storage(
        optuna_store.location(spec.optuna_storage, spec.tracking_uri, spec.storage)
    )
    study_name = optuna_store.study_names(optuna_prefix, len(spec.groups))[index]
    searcher = OptunaSearch(
        space=compose(spec.spaces, spec.space_options, {**spec.base, **group}),
        sampler=sampler,
        metric=metric,
        mode=mode,
        study_name=study_name,
        storage=storage,
    )
    optuna_store.describe(storage, study_name, spec, group)
    scheduler = SCHEDULERS.get(spec.scheduler)(total_epochs(spec))
    if scheduler is not None:
        scheduler.set_search_properties(spec.metric, spec.mode)
    return searcher, scheduler


def _new_tuner(stage: Stage, trainable: Any, workers: int | None):
    """One Tuner for every group: trials of all groups share the cluster (no idle tail per group),
    each group keeping its own searcher and scheduler (study.group_search)."""
    from ray import tune

    from study.group_search import GroupedScheduler, GroupedSearcher

    spec = stage.spec
    groups = [dict(g) for g in spec.groups]
    searchers, schedulers = zip(
        *(
            _group_search(spec, group, index, stage.optuna_prefix)
            for index, group in enumerate(groups)
        )
    )
    scheduler = None if schedulers[0] is None else GroupedScheduler(schedulers, groups)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=GroupedSearcher(searchers, spec.trials),
            scheduler=scheduler,
            num_samples=spec.trials * len(groups),
            max_concurrent_trials=workers,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=TUNER_NAME,
            storage_path=stage.storage_path,
            verbose=0,
            callbacks=[Relay(TUNER_NAME)],  # forwards to this driver's callbacks (study.relay)
            stop=RelayStopper(TUNER_NAME),  # and to its DataIdentity check
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )


def _restored_tuner(path: str, trainable: Any):
    """Ray Tune's own restore: finished trials stay, unfinished and errored ones resume from their
    checkpoints, and the searchers come back with their Optuna history; the restored ``Relay``
    forwards to the callbacks this driver registered."""
    from ray import tune

    return tune.Tuner.restore(
        path, trainable=trainable, resume_unfinished=True, resume_errored=True
    )


def _run_stage(
    stage: Stage, recorder: TrialRecorder, workers: int | None, resume: bool
) -> tuple[RecordOutcome, Any]:
    """Run (or resume) one stage's Tuner; its trials carry the stage's tags."""
    from ray import tune

    spec = stage.spec
    stage_recorder = replace(
        recorder, tags=tuple(sorted({**dict(recorder.tags), **stage.tags}.items()))
    )
    trainable = _trainable(spec, stage_recorder)
    callbacks = _callbacks(spec, stage_recorder)
    identity = DataIdentity()  # trials of one data config saw one data set, on every node
    register(TUNER_NAME, callbacks, identity)
    path = os.path.join(stage.storage_path, TUNER_NAME)
    if resume and tune.Tuner.can_restore(path):
        tuner = _restored_tuner(path, trainable)
    else:
        tuner = _new_tuner(stage, trainable, workers)
    results = tuner.fit()
    if identity.conflict:
        raise UsageError(identity.conflict)
    return callbacks[0], results


def quiet_libraries() -> None:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # a resumed trial re-reports the epochs its Optuna trial (kept in storage) already holds
    warnings.filterwarnings(
        "ignore", message="The reported value is ignored because this `step", category=UserWarning
    )
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_study(spec: StudySpec, resume: bool = False) -> StudyOutcome:
    """Run (or resume) every stage and group of the study; each trial is one nested MLflow run
    under one parent (study.stages: a plain study is one stage)."""
    quiet_libraries()
    spec.trial_configs()  # validate before anything starts
    start_ray(spec.address)
    save_spec(spec)
    experiment_id = experiment_id_for(spec.tracking_uri, spec.name)
    c = client(spec.tracking_uri)
    tags = {
        "study": spec.name,
        "preset": spec.preset,
        "size": spec.size,
        "sampler": spec.sampler,
        "scheduler": spec.scheduler,
        "metric": spec.metric,
        "mode": spec.mode,
    }
    tags.update(source_tags())  # user, command and git commit on the parent and every trial run
    parent_id = find_parent_run(spec.tracking_uri, experiment_id, spec.name) if resume else None
    if parent_id is None:
        parent_tags = {
            **tags,
            "role": "study",
            NOTE: parent_run.description(spec),
            "optuna.storage": optuna_store.location(
                spec.optuna_storage, spec.tracking_uri, spec.storage
            ),
        }
        parent_id = retry(
            lambda: c.create_run(experiment_id, tags=parent_tags, run_name=spec.name)
        ).info.run_id
        parent_run.describe_experiment(spec.tracking_uri, experiment_id, spec)
    else:
        retry(lambda: c.update_run(parent_id, status="RUNNING"))
    recorder = TrialRecorder(
        spec.tracking_uri,
        experiment_id,
        parent_id,
        tuple(sorted(tags.items())),
        system_metrics=spec.system_metrics,
    )
    workers = concurrency(spec)
    trials = failed = 0
    interrupted = False
    done: dict[str, list[dict[str, Any]]] = {}
    try:
        while not interrupted and (stage := next_stage(spec, done)) is not None:
            outcome, results = _run_stage(stage, recorder, workers, resume)
            trials += len(outcome.outcomes)
            failed += sum(1 for status in outcome.outcomes.values() if status == "failed")
            interrupted = outcome.unfinished > 0
            done[stage.name] = result_rows(results, spec.metrics[0])
    except BaseException:
        retry(lambda: c.set_terminated(parent_id, status="KILLED"))
        raise
    if resume and not interrupted:
        retire_orphans(spec.tracking_uri, experiment_id, parent_id)
    parent_run.summarize(spec, experiment_id, parent_id)  # best value, its run id, summary.md
    retry(lambda: c.set_terminated(parent_id, status="KILLED" if interrupted else "FINISHED"))
    return StudyOutcome(experiment_id, parent_id, trials, failed, interrupted)
