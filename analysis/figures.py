"""The figure set of one study: compute each figure's data, then draw it (PNG + SVG)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import plots
from analysis.importance import importance_info
from analysis.reference import THESIS_OPTIMA
from analysis.summaries import (
    group_info,
    history_info,
    proxy_cosine_info,
    ranked,
    schedule_candidates,
    schedule_info,
)
from analysis.trends import TrendResult

FIGURES = ("history", "importance", "scale_curves", "trend", "groups", "schedules", "proxy_cosine")
PROXY_TRIALS = 5  # best trials drawn in the proxy-cosine figure


def slug(name: str) -> str:
    """A file-name-safe version of a study name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_") or "study"


def reference_points() -> list[dict[str, Any]]:
    """The thesis's measured optima as plain dicts for ``plots.plot_trend``."""
    return [vars(r) for r in THESIS_OPTIMA]


def study_figures(
    trials: pd.DataFrame,
    out_dir: str | Path,
    name: str,
    metric: str,
    mode: str,
    *,
    trend: TrendResult | None = None,
    importances: dict[str, Any] | None = None,
    tracking_uri: str | None = None,
) -> dict[str, Path]:
    """Draw every figure that has data for this study into ``out_dir``; returns figure -> PNG path.

    With ``tracking_uri`` the schedule figure also shows the logged per-epoch scale of each
    trial (read through ``analysis.load``); without it only the planned schedules are drawn.
    """
    out = Path(out_dir)
    stem = slug(name)
    drawn: dict[str, list[Path]] = {}
    drawn["history"] = plots.plot_history(
        history_info(trials, metric, mode), out / f"{stem}-history"
    )
    info = importances if importances is not None else importance_info(trials, metric, mode)
    if info["importances"]:
        drawn["importance"] = plots.plot_importances(info, out / f"{stem}-importance")
    if trend is not None and trend.optima:
        drawn["scale_curves"] = plots.plot_scale_curves(trend, out / f"{stem}-scale_curves")
        drawn["trend"] = plots.plot_trend([trend], out / f"{stem}-trend", reference_points())
    groups = group_info(trials, metric, mode)
    if tracking_uri and not groups["per_class"]["classes"]:
        groups["per_class"] = per_class_of_best(trials, metric, mode, tracking_uri)
    if groups["groups"] or groups["per_class"]["classes"]:
        drawn["groups"] = plots.plot_groups(groups, out / f"{stem}-groups")
    candidates = schedule_candidates(trials, metric, mode)
    if not candidates.empty:
        measured = None
        if tracking_uri:
            from analysis.load import load_metric_histories

            measured = load_metric_histories(tracking_uri, candidates["run_id"].tolist(), "scale")
        drawn["schedules"] = plots.plot_schedules(
            schedule_info(candidates, measured), out / f"{stem}-schedules"
        )
    if tracking_uri:
        proxies = proxy_cosine_figure(
            trials, out / f"{stem}-proxy_cosine", metric, mode, tracking_uri
        )
        if proxies:
            drawn["proxy_cosine"] = proxies
    return {k: paths[0] for k, paths in drawn.items()}


def per_class_of_best(
    trials: pd.DataFrame, metric: str, mode: str, tracking_uri: str
) -> dict[str, Any]:
    """The best finished trial's per-class test recall, read from its ``per_class_recall.csv``
    artifact (trials log it as a table, not as one metric per class)."""
    from analysis.load import load_per_class_recall

    best = ranked(trials, metric, mode).head(1)
    table = None if best.empty else load_per_class_recall(tracking_uri, str(best.iloc[0]["run_id"]))
    if table is None or "test_recall" not in table:
        return {"run_id": None, "classes": [], "values": []}
    table = table[table["test_recall"].notna()]
    return {
        "run_id": best.iloc[0]["run_id"],
        "classes": [int(c) for c in table["class"]],
        "values": [float(v) for v in table["test_recall"]],
    }


def proxy_cosine_figure(
    trials: pd.DataFrame,
    stem: str | Path,
    metric: str,
    mode: str,
    tracking_uri: str,
    k: int = PROXY_TRIALS,
) -> list[Path]:
    """Proxy cosine mean +- 1 std over epochs of the k best trials; no files (``[]``) when none logged it."""
    from analysis.load import load_metric_histories

    best = ranked(trials, metric, mode).head(k)
    if best.empty:
        return []
    ids = best["run_id"].tolist()
    means = load_metric_histories(tracking_uri, ids, "proxy_cos_mean")
    if means.empty:
        return []
    info = proxy_cosine_info(best, means, load_metric_histories(tracking_uri, ids, "proxy_cos_var"))
    return plots.plot_proxy_cosines(info, stem) if info["curves"] else []


__all__ = [
    "FIGURES",
    "per_class_of_best",
    "proxy_cosine_figure",
    "reference_points",
    "slug",
    "study_figures",
]
