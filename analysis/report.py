"""Best-configuration reports: JSON, Markdown and a self-contained HTML page, readable without the code.

Per study: the best single trial and the command that replays it, the best trial per class count
and a top-k table, all among the trials that ran their whole budget (``full_budget``); the scale
trend (``analysis.trends``), fANOVA importances and the figures.
``render`` turns the JSON into Markdown and HTML; nothing here talks to MLflow except through
``analysis.figures`` when a tracking URI is given (for the logged per-epoch scale).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.contrasts import cell_mask
from analysis.reference import PAPER_TABLES, PaperTable, paper_tables_for
from analysis.response import ESTIMATE_STAGE, STAGE, is_staged
from analysis.trends import N_BOOT
from trainables.metric_names import VAL_ACCURACY

TOP_K = 10
# the trial_status of a trial that ran its whole budget (study.callbacks)
FINISHED_TRIAL = "finished"


def full_budget(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials that ran their whole budget, the only ones ranked against each other: MLflow FINISHED,
    ``trial_status`` finished (or not recorded), and in a staged study the estimation stage (the
    screen trains a fraction of the steps). Trials a scheduler stopped early are another fidelity."""
    ok = trials["status"] == "FINISHED"
    if "tag:trial_status" in trials:
        ok &= trials["tag:trial_status"].fillna(FINISHED_TRIAL) == FINISHED_TRIAL
    if is_staged(trials):
        ok &= trials[STAGE] == ESTIMATE_STAGE
    return trials[ok]


def best_trial(trials: pd.DataFrame, metric: str, mode: str) -> pd.Series | None:
    """The full-budget trial (``full_budget``) with the best final ``metric``, or None when no such
    trial has it. The best of many noisy trials: its value is optimistic for its configuration."""
    column = f"metric:{metric}"
    if column not in trials:
        return None
    ok = full_budget(trials)
    ok = ok[ok[column].notna()]
    if ok.empty:
        return None
    return ok.loc[ok[column].idxmax() if mode == "max" else ok[column].idxmin()]


def candidates(trials: pd.DataFrame, metric: str) -> int:
    """How many full-budget trials recorded ``metric``: the trials ``best_trial`` chose among."""
    column = f"metric:{metric}"
    return int(full_budget(trials)[column].notna().sum()) if column in trials else 0


def config_of(row: pd.Series) -> dict[str, Any]:
    """The flat TrialConfig of a trial, as recorded in its params."""
    return {
        k[len("param:") :]: _plain(v)
        for k, v in row.items()
        if k.startswith("param:") and not _missing(v)
    }


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def top_table(trials: pd.DataFrame, metric: str, mode: str, k: int = TOP_K) -> pd.DataFrame:
    """The k best full-budget trials (``full_budget``) with their searched parameters (the ones that
    vary) and outcomes."""
    column = f"metric:{metric}"
    done = full_budget(trials)
    ranked = done[done[column].notna()].sort_values(column, ascending=mode == "min").head(k)
    varying = [c for c in trials if c.startswith("param:") and trials[c].nunique(dropna=True) > 1]
    # a retrieval study (unseen test classes) reports its test Recall@1 for the selected trial only
    selected_only = "metric:test_recall_at_1" in trials
    outcome = [
        c
        for c in (f"metric:{VAL_ACCURACY}", "metric:test_accuracy", "metric:epoch")
        if c in trials and not (selected_only and c.startswith("metric:test_"))
    ]
    cols = ["run_id", "tag:trial_status", *varying, *dict.fromkeys([column, *outcome])]
    table = ranked[[c for c in cols if c in ranked]].copy()
    table.columns = [c.split(":", 1)[-1] for c in table.columns]
    return table.reset_index(drop=True)


def replay_command(run_id: str, tracking_uri: str | None = None) -> str:
    """The shell command that re-trains a recorded trial without Optuna or Ray."""
    return f"study replay {run_id}" + (f" --tracking-uri {tracking_uri}" if tracking_uri else "")


def best_per_class_count(
    trials: pd.DataFrame, metric: str, mode: str, tracking_uri: str | None = None
) -> list[dict[str, Any]]:
    """The best full-budget trial for each class count (``param:data.num_classes``; 0 = all classes),
    and how many it was chosen among."""
    if "param:data.num_classes" not in trials:
        return []
    rows = []
    for count, group in trials.groupby("param:data.num_classes", sort=True):
        best = best_trial(group, metric, mode)
        if best is None:
            continue
        rows.append(
            {
                "num_classes": int(count),
                "run_id": best["run_id"],
                metric: float(best[f"metric:{metric}"]),
                "test_accuracy": _float(best.get("metric:test_accuracy")),
                "loss": best.get("param:loss.output"),
                "scale": _float(best.get("param:scale.start")),
                "full-budget trials": candidates(group, metric),
                "replay": replay_command(best["run_id"], tracking_uri),
            }
        )
    return rows


RETRIEVAL_TEST = (
    "metric:test_recall_at_1"  # a retrieval study's test metric, on classes training never saw
)


def selected_configurations(
    trials: pd.DataFrame, metric: str, mode: str, tracking_uri: str | None = None
) -> list[dict[str, Any]]:
    """A retrieval study (test Recall@1 on unseen classes): per dataset, the trial selected by ``metric``
    (Recall@1 on the validation classes, ``val_recall_at_1``) and the test Recall@1 of that trial only.
    Empty for other studies."""
    if RETRIEVAL_TEST not in trials:
        return []
    datasets = (
        trials["param:data.name"]
        if "param:data.name" in trials
        else pd.Series("", index=trials.index)
    )
    rows = []
    for dataset, group in trials.groupby(datasets.fillna(""), sort=True):
        best = best_trial(group, metric, mode)
        if best is None:
            continue
        rows.append(
            {
                "dataset": dataset,
                "selected_by": metric,
                "run_id": best["run_id"],
                metric: float(best[f"metric:{metric}"]),
                "test_recall_at_1": _float(best.get(RETRIEVAL_TEST)),
                "candidates": candidates(group, metric),
                "config": config_of(best),
                "replay": replay_command(best["run_id"], tracking_uri),
            }
        )
    return rows


def paper_beside_ours(
    trials: pd.DataFrame, table: PaperTable, metric: str, mode: str
) -> dict[str, Any] | None:
    """The paper's table with ours beside it, over paired seeds (``analysis.contrasts``).

    Per setting (a grid cell) and column: the paper's value, our mean over seeds with its 95% t
    interval (one finished trial per seed: the best by the study's ``metric``/``mode`` when a cell
    searched more than its seed), in the paper's unit (``table.ours``). Per setting other than the
    table's baseline and column: the paper's difference, our mean paired difference with its t
    interval, and P(ours > baseline) over the paired seeds with its exact binomial interval (ties
    left out; ``analysis.contrasts.improvement``). Per column: the smallest effect the design
    resolves. None when the table names no grid cells.
    """
    from analysis.contrasts import compare_cells, per_seed

    if not table.cells:
        return None
    paper = table.columns()
    columns = {name: table.ours[name] for name in paper if name in table.ours}
    order = list(table.cells)
    baseline = table.baseline or order[0]
    values = per_seed(trials, table.cells, columns, metric, mode)
    result = compare_cells(values, list(columns), baseline, order)
    beside = []
    for setting in order:
        mine = values[values["cell"] == setting]
        row: dict[str, Any] = {
            table.column: setting,
            "seeds": result["cells"][setting]["seeds"],
            "trials": int(cell_mask(trials, table.cells[setting]).sum()),
        }
        for name, known in paper.items():
            est = result["cells"][setting].get(name, {})
            row[f"{name} (paper)"] = known.get(setting)
            row[f"{name} (ours)"] = est.get("mean")
            row[f"{name} (ours) low"], row[f"{name} (ours) high"] = est.get("low"), est.get("high")
            row[f"{name} (ours) note"] = est.get("note")
        row["run_ids"] = mine["run_id"].tolist()
        beside.append(row)
    contrasts = []
    for name in columns:
        for setting in order:
            if setting == baseline:
                continue
            c = result["contrasts"][setting][name]
            a, b = paper[name].get(setting), paper[name].get(baseline)
            contrasts.append(
                {
                    "contrast": f"{setting} - {baseline}",
                    "metric": name,
                    "paper": None if a is None or b is None else a - b,
                    "ours": c["mean"],
                    "low": c["low"],
                    "high": c["high"],
                    "note": c["note"],
                    "pairs": c["pairs"],
                    "p_improve": c["p_improve"],
                    "p_low": c["p_low"],
                    "p_high": c["p_high"],
                    "wins": c["wins"],
                    "losses": c["losses"],
                    "ties": c["ties"],
                }
            )
    return {
        "baseline": baseline,
        "beside": beside,
        "contrasts": contrasts,
        "resolution": result["resolution"],
        "per_seed": json.loads(values.to_json(orient="records")),
    }


def _paper_entry(group: pd.DataFrame, table: PaperTable, metric: str, mode: str) -> dict[str, Any]:
    entry = table.to_dict()
    entry.update(
        paper_beside_ours(group, table, metric, mode)
        or {"beside": None, "contrasts": [], "resolution": {}}
    )
    return entry


def study_summary(
    group: pd.DataFrame,
    name: str,
    metric: str,
    mode: str,
    tracking_uri: str | None = None,
    n_boot: int = N_BOOT,
    objectives: tuple[list[str], list[str]] | None = None,
) -> tuple[dict[str, Any], Any]:
    """The JSON of one study, and its TrendResult (None when no trial speaks to the scale).

    With several ``objectives`` (metrics, modes) no trial is "best": the summary holds the Pareto
    front (``analysis.summaries.pareto_info``) and a summary of each arm instead of a ranking."""
    from analysis.importance import importance_info
    from analysis.trends import scale_trend

    if objectives is not None and len(objectives[0]) > 1:
        return multi_objective_summary(group, name, *objectives, tracking_uri), None
    best = best_trial(group, metric, mode)
    counts = (
        group["tag:trial_status"].value_counts().to_dict() if "tag:trial_status" in group else {}
    )
    trend = (
        scale_trend(group, metric, mode, experiment=str(name), n_boot=n_boot)
        if "param:scale.start" in group
        else None
    )
    preset = (
        group["tag:preset"].dropna().iloc[0]
        if "tag:preset" in group and group["tag:preset"].notna().any()
        else None
    )
    summary = {
        "experiment": name,
        "metric": metric,
        "mode": mode,
        "trials": int(len(group)),
        "status_counts": {str(k): int(v) for k, v in group["status"].value_counts().items()},
        "trial_status_counts": {str(k): int(v) for k, v in counts.items()},
        "best": None
        if best is None
        else {
            "run_id": best["run_id"],
            metric: float(best[f"metric:{metric}"]),
            "test_accuracy": _float(best.get("metric:test_accuracy")),
            "candidates": candidates(group, metric),
            "config": config_of(best),
            "replay": replay_command(best["run_id"], tracking_uri),
        },
        "per_class_count": best_per_class_count(group, metric, mode, tracking_uri),
        "selected": selected_configurations(group, metric, mode, tracking_uri),
        "top": json.loads(top_table(group, metric, mode).to_json(orient="records"))
        if best is not None
        else [],
        "trend": None if trend is None else trend.to_dict(),
        "importances": importance_info(group, metric, mode) if best is not None else None,
        "preset": preset,
        "departures": departures_of(group),
        "paper_tables": [_paper_entry(group, t, metric, mode) for t in paper_tables_for(preset)],
        "figures": {},
    }
    return summary, trend


def _first_tag(trials: pd.DataFrame, name: str) -> str | None:
    column = f"tag:{name}"
    found = trials[column].dropna() if column in trials else pd.Series(dtype=object)
    return str(found.iloc[0]) if len(found) else None


def departures_of(trials: pd.DataFrame) -> str:
    """What the study's preset, at the size it ran, changes from its paper and why ("" when unknown)."""
    preset, size = _first_tag(trials, "preset"), _first_tag(trials, "size")
    if not preset or not size:
        return ""
    try:
        from study.presets import PRESETS

        found = PRESETS.get(preset)
    except (ImportError, KeyError):
        return ""
    return found.departures(size) if found.departures else ""


def multi_objective_summary(
    group: pd.DataFrame,
    name: str,
    metrics: list[str],
    modes: list[str],
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """A study with several objectives: its Pareto front and per-arm means, never a single best trial."""
    from analysis.summaries import pareto_info

    counts = (
        group["tag:trial_status"].value_counts().to_dict() if "tag:trial_status" in group else {}
    )
    pareto = pareto_info(group, metrics, modes)
    for point in pareto["front"]:
        point["replay"] = replay_command(point["run_id"], tracking_uri)
    return {
        "experiment": name,
        "metric": ",".join(metrics),
        "mode": ",".join(modes),
        "objectives": metrics,
        "trials": int(len(group)),
        "status_counts": {str(k): int(v) for k, v in group["status"].value_counts().items()},
        "trial_status_counts": {str(k): int(v) for k, v in counts.items()},
        "best": None,
        "pareto": pareto,
        "per_class_count": [],
        "top": [],
        "trend": None,
        "importances": None,
        "preset": _first_tag(group, "preset"),
        "departures": departures_of(group),
        "paper_tables": [],
        "figures": {},
    }


def study_objective(
    trials: pd.DataFrame, metric: str | None = None, mode: str | None = None
) -> tuple[str, str]:
    """The metric and mode to rank by: the ones given, else the study's own (its ``metric``/``mode`` tags);
    a multi-objective study (``a,b``) is ranked by its first objective."""

    def tag(name: str, default: str) -> str:
        column = f"tag:{name}"
        found = trials[column].dropna() if column in trials else pd.Series(dtype=object)
        return str(found.iloc[0]) if len(found) else default

    metric, mode = metric or tag("metric", VAL_ACCURACY), mode or tag("mode", "max")
    return metric.split(",")[0].strip(), mode.split(",")[0].strip()


def study_objectives(
    trials: pd.DataFrame, metric: str | None = None, mode: str | None = None
) -> tuple[list[str], list[str]]:
    """Every objective of the study (``a,b`` -> [a, b]) and its mode: the ones given, else the study's tags."""
    metric, mode = (
        metric or _first_tag(trials, "metric") or VAL_ACCURACY,
        mode or _first_tag(trials, "mode") or "max",
    )
    metrics = [m.strip() for m in metric.split(",")]
    modes = [m.strip() for m in mode.split(",")]
    return metrics, (modes * len(metrics))[: len(metrics)] if len(modes) == 1 else modes


def write_report(
    trials: pd.DataFrame,
    out_dir: str | Path,
    metric: str | None = None,
    mode: str | None = None,
    *,
    tracking_uri: str | None = None,
    figures: bool = True,
    n_boot: int = N_BOOT,
) -> dict[str, Any]:
    """Write ``report.json``, ``report.md``, ``report.html`` and ``figures/`` into ``out_dir``; returns the JSON.

    ``metric``/``mode`` default to each study's own (see ``study_objectives``). The HTML page
    embeds its figures (base64 PNG) and opens anywhere; the Markdown links to ``figures/*.png``.
    ``tracking_uri`` goes into the replay commands.
    """
    from analysis.render import html, markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    studies = []
    for name, group in trials.groupby("experiment", sort=True):
        metrics, modes = study_objectives(group, metric, mode)
        m, d = metrics[0], modes[0]
        summary, trend = study_summary(
            group, str(name), m, d, tracking_uri, n_boot, objectives=(metrics, modes)
        )
        if figures and summary.get("pareto") is not None:
            from analysis.figures import slug
            from analysis.plots import plot_pareto

            if summary["pareto"]["points"]:
                drawn = {
                    "pareto": plot_pareto(
                        summary["pareto"], out / "figures" / f"{slug(str(name))}-pareto"
                    )[0]
                }
                summary["figures"] = {k: str(p.relative_to(out)) for k, p in drawn.items()}
        elif figures:
            from analysis.figures import study_figures

            drawn = study_figures(
                group,
                out / "figures",
                str(name),
                m,
                d,
                trend=trend,
                importances=summary["importances"],
                tracking_uri=tracking_uri,
            )
            summary["figures"] = {k: str(p.relative_to(out)) for k, p in drawn.items()}
        studies.append(summary)
    report = {
        "metric": metric,
        "mode": mode,
        "tracking_uri": tracking_uri,
        "studies": studies,
        "paper_tables": {k: [t.to_dict() for t in v] for k, v in PAPER_TABLES.items()},
    }
    report = json_safe(report)
    (out / "report.json").write_text(
        json.dumps(report, indent=2, default=str, allow_nan=False) + "\n"
    )
    (out / "report.md").write_text(markdown(report))
    (out / "report.html").write_text(html(report, out))
    return report


def _float(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def json_safe(value: Any) -> Any:
    """NaN and infinities become None (strict JSON); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = [
    "TOP_K",
    "best_per_class_count",
    "best_trial",
    "candidates",
    "config_of",
    "json_safe",
    "paper_beside_ours",
    "replay_command",
    "selected_configurations",
    "departures_of",
    "full_budget",
    "multi_objective_summary",
    "study_objective",
    "study_objectives",
    "study_summary",
    "top_table",
    "write_report",
]
