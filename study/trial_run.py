"""A trial's MLflow run, as its Ray worker records it: params and tags, its dataset, its epochs'
metrics and its artifacts, under the study's parent run (the driver sets the final status:
study.callbacks).

The worker never waits on the store where it need not. Every request goes to the store from one
background thread, in the order the trial made it, so the first trial of a fresh worker trains
while MLflow is imported, connects and creates the run (about 2.5 s on 2 CPU cores with a sqlite
store; most of it is Python holding the GIL, so training slows meanwhile: the bench measured a
fresh worker's first trial 1.4 s longer than its loop twin, 2.4 s when it waited), and later
requests do not hold up the training loop. The trial waits for them all
(``TrialRun.drain``) only where its record must be complete: when it sends its epochs' metrics (see
trainables.ray_trainable for when: before any report a scheduler may stop the trial on, before a
checkpoint and with the last epoch) and when the run closes. A request that fails (after
study.tracking.retry) raises there, in the trial, as it would have where it was made.

Epoch metrics are kept by the worker until such a send and go in ``log_batch`` requests of at most
MLflow's 1,000 metrics, each epoch at its own step. A trial that is retried or resumed finds its
run by the ``trial_id`` tag and continues it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from study.tracking import PARENT_RUN_ID, client, retry, trial_run_name
from trainables.flat import as_text

# kept in per_class_recall.csv, not as metrics
PER_CLASS_METRIC = re.compile(r"^test_class_\d+_recall$")
METRICS_PER_BATCH = 1000  # the most metrics MLflow takes in one log_batch request


@dataclass(frozen=True)
class TrialRecorder:
    """Picklable handle that Ray workers use to record their trial under the study's parent run."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    tags: tuple[tuple[str, str], ...]  # study, preset, size, sampler, ..., and the source_tags
    system_metrics: bool = False  # log CPU, memory, disk, network (and GPU) use as system/* metrics

    def open(self, trial_id: str, trial_name: str, flat_config: dict[str, Any]) -> TrialRun:
        """The trial's run; it is created (or found, for a retried trial) in the background."""
        return TrialRun(lambda: self._create(trial_id, trial_name, flat_config))

    def find(self, trial_id: str) -> Any:
        """The MLflow run of Ray Tune trial ``trial_id`` in this study, or None."""
        c = client(self.tracking_uri)
        runs = retry(
            lambda: c.search_runs(
                [self.experiment_id],
                filter_string=f"tags.trial_id = '{trial_id}' and tags.`{PARENT_RUN_ID}` = '{self.parent_run_id}'",
                max_results=1,
            )
        )
        return runs[0] if runs else None

    def _create(
        self, trial_id: str, trial_name: str, flat_config: dict[str, Any]
    ) -> tuple[Any, str, Any]:
        """(client, run id, system-metrics monitor) of the trial's new or continued run."""
        c = client(self.tracking_uri)
        existing = self.find(trial_id)
        if existing is not None:  # a retried or resumed trial continues its run
            run_id = existing.info.run_id
            attempts = int(existing.data.tags.get("attempts", "1")) + 1
            retry(lambda: c.update_run(run_id, status="RUNNING"))
            retry(lambda: c.set_tag(run_id, "attempts", str(attempts)))
            return c, run_id, self._monitor(run_id, resume=True)
        tags = {
            **dict(self.tags),
            PARENT_RUN_ID: self.parent_run_id,
            "trial_id": trial_id,
            "trial_name": trial_name,
            "attempts": "1",
        }
        if "data.num_classes" in flat_config:
            tags["class_count"] = str(flat_config["data.num_classes"])
        run = retry(
            lambda: c.create_run(
                self.experiment_id, tags=tags, run_name=trial_run_name(flat_config)
            )
        )
        run_id = run.info.run_id
        from mlflow.entities import Param

        params = [Param(k, as_text(v)) for k, v in sorted(flat_config.items())]
        for start in range(0, len(params), 100):
            retry(lambda: c.log_batch(run_id, params=params[start : start + 100]))
        return c, run_id, self._monitor(run_id, resume=False)

    def _monitor(self, run_id: str, resume: bool) -> Any:
        """MLflow's system-metrics sampler for this run (a thread in the worker), when asked for."""
        if not self.system_metrics:
            return None
        from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

        monitor = SystemMetricsMonitor(
            run_id, resume_logging=resume, tracking_uri=self.tracking_uri
        )
        monitor.start()
        return monitor


class TrialRun:
    """One trial's MLflow run, as seen from its worker: its requests run in order on one background
    thread (see the module doc); ``run_id`` is None until the run exists."""

    def __init__(self, create: Callable[[], tuple[Any, str, Any]]) -> None:
        self.client: Any = None
        self.run_id: str | None = None
        self.monitor: Any = None
        self.pending: list[Any] = []  # metrics of epochs not yet sent (see log_epoch)
        self._requests = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlflow-run")
        self._unchecked: list[Future] = []

        def opened() -> None:
            self.client, self.run_id, self.monitor = create()

        self._submit(opened)

    def _submit(self, request: Callable[[], None]) -> None:
        self._unchecked.append(self._requests.submit(request))

    def drain(self) -> None:
        """Wait until every request made so far has reached the store; raise the first that failed."""
        unchecked, self._unchecked = self._unchecked, []
        failures = [request.exception() for request in unchecked]  # waits for each in turn
        first = next((failure for failure in failures if failure is not None), None)
        if first is not None:
            raise first

    def log_epoch(self, metrics: dict[str, float], flush: bool = True) -> None:
        """The epoch's numbers as metrics at step ``epoch``, stamped now; per-class recall stays in its
        CSV artifact. Sent at once with ``flush`` (and waited for), else kept until the next flush or
        ``close``."""
        from mlflow.entities import Metric

        step = int(metrics.get("epoch", 0))
        now = int(time.time() * 1000)
        self.pending += [
            Metric(k, float(v), now, step)
            for k, v in metrics.items()
            if isinstance(v, (int, float))
            and math.isfinite(float(v))
            and not PER_CLASS_METRIC.match(k)
        ]
        if flush:
            self.flush()

    def flush(self) -> None:
        """Send the kept metrics, up to MLflow's 1,000 per ``log_batch`` request, and wait for every
        request made so far."""
        kept, self.pending = self.pending, []
        for start in range(0, len(kept), METRICS_PER_BATCH):
            batch = kept[start : start + METRICS_PER_BATCH]
            self._submit(
                lambda batch=batch: retry(lambda: self.client.log_batch(self.run_id, metrics=batch))
            )
        self.drain()

    def log_dataset(self, record: dict[str, Any]) -> None:
        """The trial's data as an MLflow dataset input: name, digest, source and a profile (split sizes)."""
        import json

        from mlflow.entities import Dataset, DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        dataset = Dataset(
            name=record["name"],
            digest=record["digest"],
            source_type=record["source_type"],
            source=json.dumps(record["source"]),
            profile=json.dumps(record["profile"]),
        )
        inputs = [DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, "training")])]
        self._submit(lambda: retry(lambda: self.client.log_inputs(self.run_id, datasets=inputs)))

    def set_tags(self, **tags: str) -> None:
        from mlflow.entities import RunTag

        run_tags = [RunTag(k, str(v)) for k, v in tags.items()]
        self._submit(lambda: retry(lambda: self.client.log_batch(self.run_id, tags=run_tags)))

    def log_artifacts(self, directory: str) -> None:
        """Upload the files under ``directory`` as they are when the request runs (call ``drain``
        before changing them)."""
        self._submit(lambda: retry(lambda: self.client.log_artifacts(self.run_id, directory)))

    def close(self) -> None:
        """Send the kept epoch metrics and wait for every request, stop the system-metrics thread (if
        any) and flush what it sampled."""
        try:
            self.flush()
        finally:
            self._requests.shutdown(wait=True)
            if self.monitor is not None:
                self.monitor.finish()
                self.monitor = None


__all__ = ["METRICS_PER_BATCH", "PER_CLASS_METRIC", "TrialRecorder", "TrialRun"]
