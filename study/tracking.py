"""MLflow recording: one experiment per study, a parent run, one nested run per trial.

Workers log their own trial's params and per-epoch metrics (one ``log_batch`` per epoch, the
cheap path measured in MEASUREMENTS.md); the driver sets each trial's final status. A trial
that is retried or resumed finds its run by the ``trial_id`` tag and continues it.
"""
from __future__ import annotations

import math
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from study.errors import UsageError

T = TypeVar("T")
PARENT_RUN_ID = "mlflow.parentRunId"
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)  # sqlite "database is locked" and HTTP blips


def normalize_tracking_uri(uri: str) -> str:
    """Make a relative sqlite or file URI absolute, so Ray workers in other directories agree."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri[len("sqlite:///"):]).resolve())
    if "://" not in uri:
        return Path(uri).resolve().as_uri()
    return uri


def check_tracking_uri(uri: str) -> None:
    """Fail with one line before anything is written when the store cannot be reached."""
    if uri.startswith("sqlite:///"):
        parent = Path(uri[len("sqlite:///"):]).parent
        if not parent.is_dir():
            raise UsageError(f"--tracking-uri {uri}: directory {parent} does not exist")
        return
    if uri.startswith("file://"):
        path = Path(uri[len("file://"):])
        if not path.parent.is_dir():
            raise UsageError(f"--tracking-uri {uri}: directory {path.parent} does not exist")
        # MLflow 3 keeps file stores in maintenance mode behind this switch; the user asked for one.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        return
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as reply:
                if reply.status != 200:
                    raise OSError(f"HTTP {reply.status}")
        except (OSError, urllib.error.URLError) as exc:
            raise UsageError(f"--tracking-uri {uri}: no MLflow server answers ({exc})") from None
        return
    from study.cluster import DATABASE_SCHEMES, check_database_uri

    if uri.split(":", 1)[0].split("+", 1)[0] in DATABASE_SCHEMES:  # postgresql://, postgresql+psycopg2://, ...
        check_database_uri(uri)
        return
    raise UsageError(f"--tracking-uri {uri}: unsupported scheme; use sqlite:///PATH, file:///PATH, http(s)://HOST:PORT "
                     f"or a database such as postgresql://USER:PASSWORD@HOST:5432/DB")


def retry(call: Callable[[], T]) -> T:
    """Run a tracking call, retrying transient failures (a locked sqlite file, a dropped connection)."""
    for delay in (*RETRY_DELAYS_S, None):
        try:
            return call()
        except Exception:  # noqa: BLE001 - MLflow raises several unrelated types for transient faults
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def store_lock(uri: str):
    """A lock beside a sqlite store: creating and migrating its tables is not safe from two
    processes at once (two studies started together on a new store)."""
    from contextlib import nullcontext

    from filelock import FileLock

    if not uri.startswith("sqlite:///"):
        return nullcontext()
    return FileLock(uri[len("sqlite:///"):] + ".lock", timeout=600)


def experiment_id_for(uri: str, name: str) -> str:
    """Get or create the study's experiment; sqlite stores keep artifacts beside the database."""
    with store_lock(uri):
        return _experiment_id_for(uri, name)


def _experiment_id_for(uri: str, name: str) -> str:
    c = client(uri)
    found = retry(lambda: c.get_experiment_by_name(name))
    if found is not None:
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):
        location = (Path(uri[len("sqlite:///"):]).parent / "mlartifacts" / name).as_uri()
    return retry(lambda: c.create_experiment(name, artifact_location=location))


def find_parent_run(uri: str, experiment_id: str, study: str) -> str | None:
    """The study's parent run, when a resumed study already has one."""
    c = client(uri)
    runs = retry(lambda: c.search_runs([experiment_id], filter_string=f"tags.role = 'study' and tags.study = '{study}'",
                                       order_by=["attributes.start_time DESC"], max_results=1))
    return runs[0].info.run_id if runs else None


def retire_orphans(uri: str, experiment_id: str, parent_run_id: str) -> int:
    """After a resumed study ends, trial runs still RUNNING belong to trials that a killed driver
    started but never saved in its state; Ray Tune ran them again as new trials. Mark them
    abandoned and soft-delete them (``mlflow runs restore --run-id ID`` brings one back), so each trial
    appears once."""
    c = client(uri)
    runs = retry(lambda: c.search_runs(
        [experiment_id], filter_string=f"tags.`{PARENT_RUN_ID}` = '{parent_run_id}' and attributes.status = 'RUNNING'"))
    for run in runs:
        retry(lambda: c.set_tag(run.info.run_id, "trial_status", "abandoned"))
        retry(lambda: c.set_terminated(run.info.run_id, status="KILLED"))
        retry(lambda: c.delete_run(run.info.run_id))
    return len(runs)


@dataclass(frozen=True)
class TrialRecorder:
    """Picklable handle that Ray workers use to record their trial under the study's parent run."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    tags: tuple[tuple[str, str], ...]  # study, preset, size, sampler, ...

    def open(self, trial_id: str, trial_name: str, flat_config: dict[str, Any]) -> "TrialRun":
        c = client(self.tracking_uri)
        existing = retry(lambda: c.search_runs(
            [self.experiment_id],
            filter_string=f"tags.trial_id = '{trial_id}' and tags.`{PARENT_RUN_ID}` = '{self.parent_run_id}'",
            max_results=1,
        ))
        if existing:  # a retried or resumed trial continues its run
            run = existing[0]
            attempts = int(run.data.tags.get("attempts", "1")) + 1
            retry(lambda: c.update_run(run.info.run_id, status="RUNNING"))
            retry(lambda: c.set_tag(run.info.run_id, "attempts", str(attempts)))
            return TrialRun(c, run.info.run_id)
        tags = {**dict(self.tags), PARENT_RUN_ID: self.parent_run_id, "trial_id": trial_id, "attempts": "1"}
        if "data.num_classes" in flat_config:
            tags["class_count"] = str(flat_config["data.num_classes"])
        run = retry(lambda: c.create_run(self.experiment_id, tags=tags, run_name=trial_name))
        run_id = run.info.run_id
        from mlflow.entities import Param

        params = [Param(k, str(v)) for k, v in sorted(flat_config.items())]
        for start in range(0, len(params), 100):
            retry(lambda: c.log_batch(run_id, params=params[start : start + 100]))
        return TrialRun(c, run_id)


class TrialRun:
    """One trial's MLflow run, as seen from its worker."""

    def __init__(self, mlflow_client: Any, run_id: str) -> None:
        self.client, self.run_id = mlflow_client, run_id

    def log_epoch(self, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        step = int(metrics.get("epoch", 0))
        now = int(time.time() * 1000)
        batch = [
            Metric(k, float(v), now, step)
            for k, v in metrics.items()
            if isinstance(v, (int, float)) and math.isfinite(float(v))
        ]
        retry(lambda: self.client.log_batch(self.run_id, metrics=batch))

    def set_tags(self, **tags: str) -> None:
        from mlflow.entities import RunTag

        retry(lambda: self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()]))

    def log_artifacts(self, directory: str) -> None:
        retry(lambda: self.client.log_artifacts(self.run_id, directory))


def finish_run(uri: str, run_id: str, status: str, **tags: str) -> None:
    """Driver side: the final status of a trial (FINISHED or FAILED) and its outcome tags."""
    c = client(uri)
    for key, value in tags.items():
        retry(lambda: c.set_tag(run_id, key, value))
    retry(lambda: c.set_terminated(run_id, status=status))
