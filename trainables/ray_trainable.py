"""The only place where the training routine meets ``ray.tune``.

``recorder`` is injected by the study (see ``study.trial_run.TrialRecorder``): this file never
imports MLflow. Once ``checkpoint_every_s`` seconds passed since its last checkpoint (or its
start), the next epoch saves the trial's state (model, optimizers, schedule and loss state) with
its report, so a retried trial resumes where its node died and loses at most that much training.
Short trials thus never pay for a checkpoint they would not need.

An epoch is sent, to Ray Tune and to MLflow, when something acts on it or it may be the trial's
last or its resume point: an epoch that carries an objective (the searcher and a scheduler act on
it), one with a checkpoint, the last epoch, and at least every ``METRICS_EVERY_S`` seconds (the
driver's progress and the run's curves in the UI keep up). The other epochs' metrics go to MLflow
with the next sent one, or when the run closes if the trial ends in any other way. Each
``tune.report`` holds the training thread until the driver has taken the result and asked for
the next (Ray Tune's function API reports synchronously), so a trial that validates only after
its last epoch (the main job's) makes one round trip and one MLflow request, not one per epoch.
Every result carries its epoch as ``training_iteration``: schedulers count epochs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from functools import partial
from typing import Any

import torch
from ray import tune

from trainables.artifacts import write_artifacts
from trainables.config import TrialConfig, search_labels
from trainables.data import load_dataset
from trainables.data.fingerprint import data_key, dataset_fingerprint
from trainables.dataset_record import dataset_record
from trainables.metric_names import VAL_ACCURACY
from trainables.routine import TrialDiverged, train
from trainables.state import pick_device

STATE_FILE = "trial_state.pt"
DETERMINISTIC_FAILURES = (TrialDiverged, torch.OutOfMemoryError)
METRICS_EVERY_S = 30.0  # the longest a worker keeps epoch metrics before sending them to MLflow


def _load_checkpoint() -> dict[str, Any] | None:
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as directory:
        return torch.load(
            os.path.join(directory, STATE_FILE), map_location="cpu", weights_only=False
        )


def trainable(
    config: dict[str, Any],
    recorder: Any = None,
    threads_per_trial: int = 0,
    objectives: tuple[str, ...] = (VAL_ACCURACY,),
    checkpoint_every_s: float = 0.0,
) -> None:
    """Run one trial; its ``objectives`` are reported as NaN when it fails, so the sampler marks it FAIL."""
    cfg = TrialConfig.from_flat(config)
    # the sampled point's search.* labels (search.feature=pc) are recorded with the config, so the
    # report and the MLflow UI can group trials by cell; they do not configure the trial
    recorded = {**cfg.to_flat(), **search_labels(config)}
    if threads_per_trial and not cfg.train.threads:
        torch.set_num_threads(threads_per_trial)
    context = tune.get_context()
    run = (
        recorder.open(context.get_trial_id(), context.get_trial_name(), recorded)
        if recorder
        else None
    )
    identity: dict[
        str, str
    ] = {}  # what data this node loads for the config (study.data_identity compares)
    key = data_key(recorded)  # of the data.* values only

    # kept with the trial's Ray Tune state
    artifacts = os.path.join(context.get_trial_dir(), "artifacts")
    last_saved = last_sent = time.monotonic()

    def report(metrics: dict[str, float], state: dict[str, Any] | None = None) -> None:
        nonlocal last_saved, last_sent
        metrics = dict(metrics, data_key=key, data_fingerprint=identity.get("data.fingerprint", ""))
        final = metrics["epoch"] == cfg.train.total_epochs
        saving = state is not None and time.monotonic() - last_saved >= checkpoint_every_s
        # the module doc says which epochs are sent
        send = (
            final
            or saving
            or any(k in metrics for k in objectives)
            or time.monotonic() - last_sent >= METRICS_EVERY_S
        )
        last_sent = time.monotonic() if send else last_sent
        if run is not None:
            if final:  # the last report may be the last code that runs
                with open(os.path.join(artifacts, "config.json"), "w") as handle:
                    json.dump(recorded, handle, indent=2, sort_keys=True)
                run.log_artifacts(artifacts)
            # sending waits for every request
            run.log_epoch(metrics, flush=send)
        if not send:
            return
        # "" while the run is still being created (the driver then finds it by its trial_id tag)
        metrics["mlflow_run_id"] = (run.run_id or "") if run else ""
        metrics["training_iteration"] = metrics["epoch"]  # schedulers count epochs, not reports
        if not saving:
            tune.report(metrics)
            return
        with tempfile.TemporaryDirectory() as directory:
            torch.save(state, os.path.join(directory, STATE_FILE))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        last_saved = time.monotonic()

    try:
        identity.update(dataset_fingerprint(cfg.data))
        if run is not None:
            run.set_tags(**identity)
        data = None
        # the study records the data as the run's dataset input, with its digest
        if run is not None:
            data = load_dataset(cfg.data, pick_device(cfg.train.device))
            run.log_dataset(dataset_record(cfg.data, data, identity["data.fingerprint"]))
        train(
            cfg,
            report,
            resume=_load_checkpoint(),
            checkpoint=True,
            data=data,
            write_artifacts=partial(write_artifacts, directory=artifacts),
        )
    except DETERMINISTIC_FAILURES as exc:
        # Retrying would fail the same way: end the trial as failed and let the study go on.
        reason = f"{type(exc).__name__}: {exc}"[:4000]
        if run is not None:
            run.set_tags(failure_reason=reason)
            run.drain()  # the run exists and holds the reason before the report says so
        tune.report(
            {
                **dict.fromkeys(objectives, float("nan")),
                "trial_failed": 1.0,
                "failure_reason": reason,
                "mlflow_run_id": run.run_id if run else "",
            }
        )
    except Exception as exc:  # a lost node or a broken store: Ray retries from the last checkpoint
        if run is not None:
            run.set_tags(failure_reason=f"{type(exc).__name__}: {exc}"[:4000])
        raise
    finally:
        if run is not None:
            run.close()
