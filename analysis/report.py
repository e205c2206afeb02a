"""Best-configuration reports in Markdown and JSON, readable without the code."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

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


def write_report(trials: pd.DataFrame, out_dir: str | Path, metric: str = "val_accuracy", mode: str = "max") -> dict[str, Any]:
    """Write ``report.md`` and ``report.json`` per experiment into ``out_dir``; returns the JSON."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    studies = []
    for name, group in trials.groupby("experiment", sort=True):
        best = best_trial(group, metric, mode)
        counts = group["tag:trial_status"].value_counts().to_dict() if "tag:trial_status" in group else {}
        studies.append({
            "experiment": name,
            "metric": metric,
            "mode": mode,
            "trials": int(len(group)),
            "trial_status_counts": {str(k): int(v) for k, v in counts.items()},
            "best": None if best is None else {
                "run_id": best["run_id"],
                metric: float(best[f"metric:{metric}"]),
                "test_accuracy": _float(best.get("metric:test_accuracy")),
                "config": config_of(best),
                "replay": f"study replay {best['run_id']}",
            },
            "top": json.loads(top_table(group, metric, mode).to_json(orient="records")) if best is not None else [],
        })
    report = {"studies": studies}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / "report.md").write_text(markdown(report, trials, metric, mode))
    return report


def _float(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def markdown(report: dict[str, Any], trials: pd.DataFrame, metric: str, mode: str) -> str:
    lines = ["# Best configurations", ""]
    for study in report["studies"]:
        lines += [f"## Study `{study['experiment']}`", ""]
        lines.append(f"{study['trials']} trials; outcome counts: "
                     + (", ".join(f"{k} {v}" for k, v in study["trial_status_counts"].items()) or "none recorded"))
        lines.append("")
        best = study["best"]
        if best is None:
            lines += [f"No finished trial reported `{metric}`.", ""]
            continue
        lines += [
            f"**Best trial** `{best['run_id']}`: {metric} = {best[metric]:.4f} ({'higher' if mode == 'max' else 'lower'} is better)"
            + (f", test accuracy = {best['test_accuracy']:.4f}" if best["test_accuracy"] is not None else ""),
            "",
            f"Replay it without the search: `{best['replay']}`",
            "",
            "| setting | value |",
            "|---|---|",
            *[f"| `{k}` | {v} |" for k, v in sorted(best["config"].items())],
            "",
            f"### Top {len(study['top'])} trials by {metric}",
            "",
        ]
        group = trials[trials["experiment"] == study["experiment"]]
        lines += [top_table(group, metric, mode).to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines) + "\n"
