"""Driver-side Ray Tune callbacks: final MLflow status of each trial, and a compact progress line."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from ray.tune import Callback

from study.tracking import finish_run
from study.trial_run import TrialRecorder
from trainables.config import TrialConfig


def trial_outcome(trial: Any) -> tuple[str, dict[str, str]]:
    """(MLflow status, tags) of a trial that has ended."""
    result = trial.last_result or {}
    if result.get("trial_failed"):
        return "FAILED", {
            "trial_status": "failed",
            "failure_reason": str(result.get("failure_reason", "")),
        }
    if trial.status == "ERROR":
        return "FAILED", {"trial_status": "failed", "failure_reason": _error_line(trial)}
    planned = TrialConfig.from_flat(trial.config).train.total_epochs
    done = int(result.get("epoch", 0))
    status = "finished" if done >= planned else "stopped_early"
    return "FINISHED", {"trial_status": status, "epochs_done": str(done)}


def _error_line(trial: Any) -> str:
    try:
        with open(trial.error_file) as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
        return lines[-1][:4000] if lines else "error"
    except (OSError, TypeError):
        return "the trial's worker raised an error"


class RecordOutcome(Callback):
    """Sets each trial's MLflow run to FINISHED (finished or stopped early) or FAILED with a reason."""

    def __init__(self, recorder: TrialRecorder, planned_trials: int) -> None:
        self.recorder = recorder
        self.planned_trials = planned_trials
        self.outcomes: dict[str, str] = {}  # trial id -> finished | stopped_early | failed
        self.unfinished = 0  # planned trials that did not end: the run was interrupted

    def _close(self, trial: Any) -> None:
        status, tags = trial_outcome(trial)
        self.outcomes[trial.trial_id] = tags["trial_status"]
        # a trial that failed before its worker knew its run's id reported none: found by its tag
        run_id = (trial.last_result or {}).get("mlflow_run_id")
        if not run_id:
            found = self.recorder.find(trial.trial_id)
            run_id = found.info.run_id if found is not None else None
        if run_id:
            finish_run(self.recorder.tracking_uri, run_id, status, **tags)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close(trial)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        ended = sum(t.status in ("TERMINATED", "ERROR") for t in trials)
        self.unfinished = max(0, self.planned_trials - ended)


class ProgressLine(Callback):
    """One line: trials done/running/failed, best so far, elapsed; redrawn in place on a terminal."""

    def __init__(
        self, metric: str, mode: str, total: int, label: str = "", every_s: float = 2.0
    ) -> None:
        self.metric, self.mode, self.total, self.label = metric, mode, total, label
        self.every_s = every_s if sys.stdout.isatty() else 15.0
        self.started = time.monotonic()
        self.last = 0.0

    def _line(self, trials: list) -> str:
        done = sum(
            t.status == "TERMINATED" and not (t.last_result or {}).get("trial_failed")
            for t in trials
        )
        failed = sum(
            t.status == "ERROR" or bool((t.last_result or {}).get("trial_failed")) for t in trials
        )
        running = sum(t.status == "RUNNING" for t in trials)
        values = [  # a failed trial reports NaN: it is counted as failed, never shown as the best
            (t.last_result[self.metric], t.trial_id)
            for t in trials
            if t.last_result
            and isinstance(t.last_result.get(self.metric), (int, float))
            and math.isfinite(t.last_result[self.metric])
            and not t.last_result.get("trial_failed")
        ]
        best = ""
        if values:
            value, trial_id = (max if self.mode == "max" else min)(values)
            best = f" | best {self.metric} {value:.4f} ({trial_id})"
        elapsed = time.monotonic() - self.started
        return (
            f"{self.label}trials {done}/{self.total} done, {running} running, {failed} failed"
            f"{best} | {int(elapsed // 60):02d}:{int(elapsed % 60):02d}"
        )

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self._print(self._line(trials), final=False)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self._print(self._line(trials), final=True)

    def _print(self, line: str, final: bool) -> None:
        if sys.stdout.isatty():
            sys.stdout.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
