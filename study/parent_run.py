"""The study's parent MLflow run, as a reader of the runs table sees it.

It carries a description (MLflow's note: what the study searches and how), and once the study
ends the best value of each objective as a metric (``best_val_accuracy``) with the run id of the
trial that reached it, the trial counts, and ``summary.md``; ``study report`` adds the report
(``report/report.html`` and friends) to the same run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from search_spaces.scale_design import ESTIMATE
from study import optuna_store
from study.spec import StudySpec
from study.tracking import NOTE, PARENT_RUN_ID, client, find_parent_run, retry

REPORT_FILES = ("report.md", "report.html", "report.json")


def description(spec: StudySpec) -> str:
    """Markdown for the parent run's and the experiment's description."""
    url = optuna_store.location(spec.optuna_storage, spec.tracking_uri, spec.storage)
    groups = [", ".join(f"{k}={v}" for k, v in g.items()) for g in spec.groups if g]
    objectives = ", ".join(f"{m} ({d})" for m, d in zip(spec.metrics, spec.modes))
    lines = [
        spec.description or f"Study {spec.name}",
        "",
        f"- preset `{spec.preset}`, size `{spec.size}`; sampler `{spec.sampler}`, scheduler `{spec.scheduler}`",
        f"- objective: {objectives}",
        f"- {spec.trials} trials"
        + (f" in each of {len(spec.groups)} groups: {'; '.join(groups)}" if groups else ""),
        f"- search spaces: {', '.join(spec.spaces)}",
        *(
            [
                f"- baseline arm: {', '.join(f'{k}={v}' for k, v in spec.baseline.items())} on seeds "
                f"{', '.join(map(str, spec.baseline_seeds))} (trials tagged arm=baseline)"
            ]
            if spec.baseline
            else []
        ),
        f"- Optuna: `{url}`, studies named `{spec.name}` (`/group<i>` per group, `.<stage>` per stage); "
        f"`study dashboard` opens them",
        f"- replay any trial: `study replay RUN_ID --tracking-uri {spec.tracking_uri}`",
    ]
    return "\n".join(lines)


def best_runs(uri: str, experiment_id: str, parent_id: str, spec: StudySpec) -> dict[str, Any]:
    """The best trial run of each objective among those that ran their whole budget (as
    ``study report`` ranks them): finished, not stopped early by the scheduler, and in a staged
    study from its estimate stage (a screen trial trains a fraction of the steps). metric -> Run;
    objectives no such trial reached are left out."""
    c = client(uri)
    found = {}
    for metric, mode in zip(spec.metrics, spec.modes):
        runs = retry(
            lambda: c.search_runs(
                [experiment_id],
                filter_string=f"tags.`{PARENT_RUN_ID}` = '{parent_id}' and attributes.status = 'FINISHED' "
                "and tags.trial_status = 'finished'",
                order_by=[f"metrics.`{metric}` {'DESC' if mode == 'max' else 'ASC'}"],
                max_results=50000,
            )
        )
        runs = [r for r in runs if metric in r.data.metrics]
        if any("stage" in r.data.tags for r in runs):
            runs = [r for r in runs if r.data.tags.get("stage") == ESTIMATE]
        if runs:
            found[metric] = runs[0]
    return found


def trial_counts(uri: str, experiment_id: str, parent_id: str) -> tuple[int, int]:
    """(trial runs that ended, of which failed) under the parent, over every invocation of the study."""
    c = client(uri)
    runs = retry(
        lambda: c.search_runs(
            [experiment_id],
            filter_string=f"tags.`{PARENT_RUN_ID}` = '{parent_id}'",
            max_results=50000,
        )
    )
    ended = [r for r in runs if r.info.status in ("FINISHED", "FAILED")]
    return len(ended), sum(r.info.status == "FAILED" for r in ended)


def summarize(spec: StudySpec, experiment_id: str, parent_id: str) -> str:
    """Best values, counts and ``summary.md`` on the parent run; returns the summary text."""
    from mlflow.entities import Metric, RunTag

    c = client(spec.tracking_uri)
    trials, failed = trial_counts(spec.tracking_uri, experiment_id, parent_id)
    best = best_runs(spec.tracking_uri, experiment_id, parent_id, spec)
    now = int(time.time() * 1000)
    metrics = [Metric(f"best_{m}", float(r.data.metrics[m]), now, 0) for m, r in best.items()]
    metrics += [
        Metric("trials", float(trials), now, 0),
        Metric("trials_failed", float(failed), now, 0),
    ]
    tags = [RunTag(f"best_{m}_run_id", r.info.run_id) for m, r in best.items()]
    if spec.metrics[0] in best:
        tags.append(RunTag("best_run_id", best[spec.metrics[0]].info.run_id))
    retry(lambda: c.log_batch(parent_id, metrics=metrics, tags=tags))
    lines = [
        f"# {spec.name}",
        "",
        description(spec),
        "",
        "## Outcome",
        "",
        f"{trials} trials ended, {failed} failed.",
    ]
    for metric, run in best.items():
        lines.append(
            f"Best {metric}: {run.data.metrics[metric]:.4f} in run {run.info.run_id} ({run.info.run_name}); "
            f"replay with `study replay {run.info.run_id} --tracking-uri {spec.tracking_uri}`."
        )
    if not best:
        lines.append("No trial finished with a value of the objective.")
    url = optuna_store.location(spec.optuna_storage, spec.tracking_uri, spec.storage)
    studies = [
        name for name in optuna_store.existing_studies(url) if optuna_store.belongs(name, spec.name)
    ]
    lines += [
        "",
        f"Optuna studies in `{url}`: {', '.join(studies) or 'none'} "
        f"(`optuna.load_study(study_name=..., storage=...)`, or `study dashboard`).",
    ]
    lines += [
        "",
        f"The full report: `study report --experiment {spec.name} --tracking-uri {spec.tracking_uri}` "
        "(it also attaches the report to this run).",
    ]
    text = "\n".join(lines) + "\n"
    retry(lambda: c.log_text(parent_id, text, "summary.md"))
    return text


def attach_report(uri: str, experiment: str, out_dir: str | Path) -> str | None:
    """Log the written report files under ``report/`` of the study's parent run; its run id, or
    None when the store has no parent run for that study (a store written by another tool)."""
    c = client(uri)
    found = retry(lambda: c.get_experiment_by_name(experiment))
    parent = find_parent_run(uri, found.experiment_id, experiment) if found is not None else None
    if parent is None:
        return None
    for name in REPORT_FILES:
        path = Path(out_dir) / name
        if path.is_file():
            retry(lambda: c.log_artifact(parent, str(path), "report"))
    return parent


def describe_experiment(uri: str, experiment_id: str, spec: StudySpec) -> None:
    """The experiment's description, when it has none yet."""
    c = client(uri)
    experiment = retry(lambda: c.get_experiment(experiment_id))
    if not experiment.tags.get(NOTE):
        retry(lambda: c.set_experiment_tag(experiment_id, NOTE, description(spec)))


__all__ = [
    "attach_report",
    "best_runs",
    "describe_experiment",
    "description",
    "summarize",
    "trial_counts",
]
