"""Best-configuration reports: JSON, Markdown and a self-contained HTML page, readable without the code.

Per study: the best trial and the command that replays it, the best trial per class count, a
top-k table, the scale trend (``analysis.trends``), fANOVA importances and the figures.
``render`` turns the JSON into Markdown and HTML; nothing here talks to MLflow except through
``analysis.figures`` when a tracking URI is given (for the logged per-epoch scale).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.reference import PAPER_TABLES, PaperTable, paper_tables_for

TOP_K = 10


def best_trial(trials: pd.DataFrame, metric: str, mode: str) -> pd.Series | None:
    """The finished trial with the best final ``metric``, or None when no trial has it."""
    column = f"metric:{metric}"
    if column not in trials:
        return None
    ok = trials[(trials["status"] == "FINISHED") & trials[column].notna()]
    if ok.empty:
        return None
    return ok.loc[ok[column].idxmax() if mode == "max" else ok[column].idxmin()]


def config_of(row: pd.Series) -> dict[str, Any]:
    """The flat TrialConfig of a trial, as recorded in its params."""
    return {k[len("param:"):]: _plain(v) for k, v in row.items() if k.startswith("param:") and not _missing(v)}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def top_table(trials: pd.DataFrame, metric: str, mode: str, k: int = TOP_K) -> pd.DataFrame:
    """The k best trials with their searched parameters (the ones that vary) and outcomes."""
    column = f"metric:{metric}"
    ranked = trials[trials[column].notna()].sort_values(column, ascending=mode == "min").head(k)
    varying = [c for c in trials if c.startswith("param:") and trials[c].nunique(dropna=True) > 1]
    outcome = [c for c in ("metric:val_accuracy", "metric:test_accuracy", "metric:epoch") if c in trials]
    cols = ["run_id", "tag:trial_status", *varying, *dict.fromkeys([column, *outcome])]
    table = ranked[[c for c in cols if c in ranked]].copy()
    table.columns = [c.split(":", 1)[-1] for c in table.columns]
    return table.reset_index(drop=True)


def replay_command(run_id: str, tracking_uri: str | None = None) -> str:
    """The shell command that re-trains a recorded trial without Optuna or Ray."""
    return f"study replay {run_id}" + (f" --tracking-uri {tracking_uri}" if tracking_uri else "")


def best_per_class_count(trials: pd.DataFrame, metric: str, mode: str, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """The best finished trial for each class count (``param:data.num_classes``; 0 = all classes)."""
    if "param:data.num_classes" not in trials:
        return []
    rows = []
    for count, group in trials.groupby("param:data.num_classes", sort=True):
        best = best_trial(group, metric, mode)
        if best is None:
            continue
        rows.append({
            "num_classes": int(count), "run_id": best["run_id"], metric: float(best[f"metric:{metric}"]),
            "test_accuracy": _float(best.get("metric:test_accuracy")), "loss": best.get("param:loss.output"),
            "scale": _float(best.get("param:scale.start")), "trials": int(len(group)),
            "replay": replay_command(best["run_id"], tracking_uri),
        })
    return rows


def _same(value: Any, wanted: str) -> bool:
    return not _missing(value) and str(_plain(value)) == str(wanted)


def paper_beside_ours(trials: pd.DataFrame, table: PaperTable, metric: str, mode: str) -> pd.DataFrame | None:
    """The paper's table with ours beside it: per setting, the paper's value and our best trial's value of
    each column (best by the study's ``metric``/``mode`` among the finished trials of the setting's grid cell),
    in the paper's unit (``table.ours``). None when the table names no grid cells."""
    if not table.cells:
        return None
    rows = []
    for setting, cell in table.cells.items():
        mask = pd.Series(True, index=trials.index)
        for key, wanted in cell.items():
            column = f"param:{key}"
            mask &= trials[column].map(lambda v, w=wanted: _same(v, w)) if column in trials else False
        group = trials[mask]
        best = best_trial(group, metric, mode)
        row: dict[str, Any] = {table.column: setting}
        for name, values in table.columns().items():
            ours_metric, factor = table.ours.get(name, (None, 1.0))
            value = None if best is None or ours_metric is None else _float(best.get(f"metric:{ours_metric}"))
            row[f"{name} (paper)"] = values.get(setting)
            row[f"{name} (ours)"] = None if value is None else value * factor
        row["trials"] = int(len(group))
        row["run_id"] = None if best is None else best["run_id"]
        rows.append(row)
    return pd.DataFrame(rows)


def _paper_entry(group: pd.DataFrame, table: PaperTable, metric: str, mode: str) -> dict[str, Any]:
    entry = table.to_dict()
    beside = paper_beside_ours(group, table, metric, mode)
    entry["beside"] = None if beside is None else json.loads(beside.to_json(orient="records"))
    return entry


def study_summary(group: pd.DataFrame, name: str, metric: str, mode: str, tracking_uri: str | None = None,
                  n_boot: int = 1000) -> tuple[dict[str, Any], Any]:
    """The JSON of one study, and its TrendResult (None when no trial speaks to the scale)."""
    from analysis.importance import importance_info
    from analysis.trends import scale_trend

    best = best_trial(group, metric, mode)
    counts = group["tag:trial_status"].value_counts().to_dict() if "tag:trial_status" in group else {}
    trend = scale_trend(group, metric, mode, experiment=str(name), n_boot=n_boot) if "param:scale.start" in group else None
    preset = group["tag:preset"].dropna().iloc[0] if "tag:preset" in group and group["tag:preset"].notna().any() else None
    summary = {
        "experiment": name, "metric": metric, "mode": mode, "trials": int(len(group)),
        "status_counts": {str(k): int(v) for k, v in group["status"].value_counts().items()},
        "trial_status_counts": {str(k): int(v) for k, v in counts.items()},
        "best": None if best is None else {
            "run_id": best["run_id"],
            metric: float(best[f"metric:{metric}"]),
            "test_accuracy": _float(best.get("metric:test_accuracy")),
            "config": config_of(best),
            "replay": replay_command(best["run_id"], tracking_uri),
        },
        "per_class_count": best_per_class_count(group, metric, mode, tracking_uri),
        "top": json.loads(top_table(group, metric, mode).to_json(orient="records")) if best is not None else [],
        "trend": None if trend is None else trend.to_dict(),
        "importances": importance_info(group, metric, mode) if best is not None else None,
        "preset": preset,
        "paper_tables": [_paper_entry(group, t, metric, mode) for t in paper_tables_for(preset)],
        "figures": {},
    }
    return summary, trend


def study_objective(trials: pd.DataFrame, metric: str | None = None, mode: str | None = None) -> tuple[str, str]:
    """The metric and mode to rank by: the ones given, else the study's own (its ``metric``/``mode`` tags);
    a multi-objective study (``a,b``) is ranked by its first objective."""
    def tag(name: str, default: str) -> str:
        column = f"tag:{name}"
        found = trials[column].dropna() if column in trials else pd.Series(dtype=object)
        return str(found.iloc[0]) if len(found) else default

    metric, mode = metric or tag("metric", "val_accuracy"), mode or tag("mode", "max")
    return metric.split(",")[0].strip(), mode.split(",")[0].strip()


def write_report(trials: pd.DataFrame, out_dir: str | Path, metric: str | None = None, mode: str | None = None, *,
                 tracking_uri: str | None = None, figures: bool = True, n_boot: int = 1000) -> dict[str, Any]:
    """Write ``report.json``, ``report.md``, ``report.html`` and ``figures/`` into ``out_dir``; returns the JSON.

    ``metric``/``mode`` default to each study's own (see ``study_objective``). The HTML page
    embeds its figures (base64 PNG) and opens anywhere; the Markdown links to ``figures/*.png``.
    ``tracking_uri`` goes into the replay commands.
    """
    from analysis.render import html, markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    studies = []
    for name, group in trials.groupby("experiment", sort=True):
        m, d = study_objective(group, metric, mode)
        summary, trend = study_summary(group, str(name), m, d, tracking_uri, n_boot)
        if figures:
            from analysis.figures import study_figures

            drawn = study_figures(group, out / "figures", str(name), m, d, trend=trend,
                                  importances=summary["importances"], tracking_uri=tracking_uri)
            summary["figures"] = {k: str(p.relative_to(out)) for k, p in drawn.items()}
        studies.append(summary)
    report = {"metric": metric, "mode": mode, "tracking_uri": tracking_uri, "studies": studies,
              "paper_tables": {k: [t.to_dict() for t in v] for k, v in PAPER_TABLES.items()}}
    report = json_safe(report)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str, allow_nan=False) + "\n")
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
    "TOP_K", "best_per_class_count", "best_trial", "config_of", "json_safe", "paper_beside_ours", "replay_command",
    "study_objective",
    "study_summary", "top_table", "write_report",
]
