"""Plain data for the report's figures: optimization history, head/tail bars, scale schedules.

Each ``*_info`` function takes the trials DataFrame of one study (``analysis.load.load_trials``)
and returns lists and dicts that ``analysis.plots`` draws, in the manner of Optuna's
``_get_*_info`` helpers: nothing here draws and nothing in the plots computes.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

# test_<group>_accuracy of a long-tailed study (trainables.metrics)
GROUPS = ("head", "tail", "many", "medium", "few")
# Per-class final metrics, whichever spelling the evaluation uses: test_class_3_recall, test_recall_class_3, ...
PER_CLASS = re.compile(
    r"^metric:test_(?:recall_class_|class_recall_|per_class_|class_)(\d+)(?:_recall|_accuracy)?$"
)
SCHEDULE_SAMPLES = 20  # points per epoch of a planned scale curve


def ranked(trials: pd.DataFrame, metric: str, mode: str) -> pd.DataFrame:
    """Finished trials that recorded ``metric``, best first."""
    column = f"metric:{metric}"
    if column not in trials:
        return trials.iloc[:0]
    done = trials[(trials["status"] == "FINISHED") & trials[column].notna()]
    return done.sort_values(column, ascending=mode == "min", kind="stable")


def group_key(trials: pd.DataFrame) -> pd.Series:
    """The Optuna group of each trial: its class count when recorded, else one group."""
    if "param:data.num_classes" in trials:
        return trials["param:data.num_classes"].map(
            lambda c: f"C={int(c)}" if pd.notna(c) and c else "C=all"
        )
    return pd.Series("all", index=trials.index)


def _group_order(name: str) -> tuple[int, str]:
    digits = name.removeprefix("C=")
    return (int(digits), "") if digits.isdigit() else (10**9, name)


def history_info(trials: pd.DataFrame, metric: str, mode: str) -> dict[str, Any]:
    """Metric per trial in start order, failures as None, and the best so far within each group."""
    column = f"metric:{metric}"
    ordered = trials.sort_values("start_time", kind="stable").reset_index(drop=True)
    values = ordered[column] if column in ordered else pd.Series(np.nan, index=ordered.index)
    usable = (ordered["status"] == "FINISHED") & values.notna()
    groups = group_key(ordered)
    series = {}
    for name in sorted(groups.unique(), key=_group_order):
        mask = (groups == name) & usable
        picked = values[mask]
        best = picked.cummax() if mode == "max" else picked.cummin()
        series[name] = {
            "order": (picked.index + 1).tolist(),
            "value": picked.tolist(),
            "best_so_far": best.tolist(),
        }
    return {
        "metric": metric,
        "mode": mode,
        "trials": len(ordered),
        "groups": series,
        "failed_order": (ordered.index[~usable] + 1).tolist(),  # trials without a usable value
    }


def group_info(trials: pd.DataFrame, metric: str, mode: str, k: int = 5) -> dict[str, Any]:
    """Overall/head/tail/many/medium/few test accuracy (and CAMRI's important-class recall) of the
    k best trials, and the best trial's per-class values.

    Empty lists when the store holds no such metrics (balanced data, or an older evaluation).
    """
    best = ranked(trials, metric, mode).head(k)
    wanted = [f"metric:test_{g}_accuracy" for g in GROUPS] + ["metric:test_important_class_recall"]
    present = [c for c in wanted if c in best and best[c].notna().any()]
    columns = (["metric:test_accuracy"] if "metric:test_accuracy" in best else []) + present
    groups = [c[len("metric:test_") :] for c in columns]
    bars = [
        {
            "run_id": r["run_id"],
            "label": f"#{i + 1} {str(r['run_id'])[:8]}",
            "values": {c[len("metric:test_") :]: _num(r[c]) for c in columns},
        }
        for i, (_, r) in enumerate(best.iterrows())
    ]
    per_class: dict[str, Any] = {"run_id": None, "classes": [], "values": []}
    if not best.empty:
        top = best.iloc[0]
        found = sorted(
            (int(m.group(1)), top[c])
            for c in best
            for m in [PER_CLASS.match(c)]
            if m and pd.notna(top[c])
        )
        per_class = {
            "run_id": top["run_id"],
            "classes": [c for c, _ in found],
            "values": [float(v) for _, v in found],
        }
    return {
        "groups": groups if present else [],
        "trials": bars if present else [],
        "per_class": per_class,
    }


def _num(value: Any) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    )


def schedule_candidates(trials: pd.DataFrame, metric: str, mode: str, k: int = 5) -> pd.DataFrame:
    """The best trial of each distinct scale schedule (up to k), among losses that have a scale."""
    from trainables.losses.registry import scaled_losses

    keys = [
        c
        for c in (
            "param:scale.schedule",
            "param:scale.start",
            "param:scale.end",
            "param:scale.switch_at",
            "param:train.pretrain_epochs",
            "param:train.epochs",
            "param:train.additional_epochs",
            "param:data.num_classes",
        )
        if c in trials
    ]
    best = ranked(trials, metric, mode)
    if "param:loss.output" in best:
        best = best[best["param:loss.output"].isin(scaled_losses())]
    if "param:scale.schedule" not in best:
        return best.iloc[:0]
    return best.drop_duplicates(subset=keys).head(k)


def schedule_info(candidates: pd.DataFrame, measured: pd.DataFrame | None = None) -> dict[str, Any]:
    """Planned scale s over the training epochs of each candidate, plus the logged ``scale`` metric.

    ``measured`` is ``load_metric_histories(uri, run_ids, "scale")``: the scale at the end of each
    epoch as trained (AdaCos's dynamic scale differs from its plan). Pre-training has no scale (None).
    """
    from trainables.config import DataConfig, ScaleConfig, TrainConfig, TrialConfig
    from trainables.phases import epoch_plan, scale_for

    curves, skipped = [], []
    for _, row in candidates.iterrows():
        get = lambda key, default: row.get(f"param:{key}", default)  # noqa: E731
        try:
            cfg = TrialConfig(
                data=DataConfig(num_classes=int(get("data.num_classes", 0))),
                scale=ScaleConfig(
                    str(get("scale.schedule", "constant")),
                    float(get("scale.start", 16.0)),
                    float(get("scale.end", 16.0)),
                    float(get("scale.switch_at", 0.5)),
                ),
                train=TrainConfig(
                    epochs=int(get("train.epochs", 10)),
                    pretrain_epochs=int(get("train.pretrain_epochs", 0)),
                    additional_epochs=int(get("train.additional_epochs", 0)),
                ),
            )
            x, y = [], []
            for epoch, phase, k in epoch_plan(cfg):
                for f in np.linspace(0.0, 1.0, SCHEDULE_SAMPLES, endpoint=False):
                    x.append(epoch + float(f))
                    y.append(
                        scale_for(cfg, phase, (k + float(f)) / phase.epochs, cfg.data.num_classes)
                        if phase.uses_objective
                        else None
                    )
            x.append(float(epoch + 1))  # the end of training
            y.append(
                scale_for(cfg, phase, (k + 1) / phase.epochs, cfg.data.num_classes)
                if phase.uses_objective
                else None
            )
        except (ValueError, TypeError) as exc:
            skipped.append(f"{row['run_id']}: {exc}")
            continue
        s = cfg.scale
        label = f"{s.schedule} {s.start:.3g}" + (
            f"->{s.end:.3g}" if s.schedule in ("linear", "step", "quadratic", "cosine") else ""
        )
        label += f", C={cfg.data.num_classes or 'all'}"
        logged = (
            measured[measured["run_id"] == row["run_id"]]
            if measured is not None and len(measured)
            else None
        )
        curves.append(
            {
                "run_id": row["run_id"],
                "label": label,
                "epoch": x,
                "scale": y,
                "measured_epoch": [] if logged is None else logged["step"].astype(float).tolist(),
                "measured_scale": [] if logged is None else logged["value"].astype(float).tolist(),
            }
        )
    return {"curves": curves, "skipped": skipped}


def proxy_cosine_info(
    candidates: pd.DataFrame, means: pd.DataFrame, variances: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Per-epoch mean pairwise cosine between class proxies, with mean +- 1 std, for each candidate trial.

    ``candidates`` are trials in the order to draw (e.g. ``ranked(...).head(5)``); ``means`` and
    ``variances`` are ``load_metric_histories(uri, run_ids, "proxy_cos_mean" / "proxy_cos_var")``.
    A trial that logged no ``proxy_cos_mean`` is left out; a missing variance gives a zero-width band.
    """
    curves = []
    for _, row in candidates.iterrows():
        mean = means[means["run_id"] == row["run_id"]] if len(means) else means
        if mean.empty:
            continue
        mean = mean.drop_duplicates("step", keep="last").set_index("step")["value"].astype(float)
        var = pd.Series(dtype=float)
        if variances is not None and len(variances):
            v = variances[variances["run_id"] == row["run_id"]]
            var = v.drop_duplicates("step", keep="last").set_index("step")["value"].astype(float)
        std = np.sqrt(var.reindex(mean.index).clip(lower=0.0).fillna(0.0))
        scale = row.get("param:scale.start")
        label = (
            f"s = {float(scale):.3g} " if scale is not None and pd.notna(scale) else ""
        ) + f"({str(row['run_id'])[:8]})"
        curves.append(
            {
                "run_id": row["run_id"],
                "label": label,
                "epoch": [float(e) for e in mean.index],
                "mean": mean.tolist(),
                "low": (mean - std).tolist(),
                "high": (mean + std).tolist(),
            }
        )
    return {"curves": curves}


ARM_KEY = "param:loss.output"  # what tells the arms of a multi-objective study apart (CAMRI vs its CE baseline)
# shown beside the objectives
PARETO_EXTRA = ("metric:test_accuracy", "metric:test_important_class_recall")
# trials of a study's baseline arm (study.stages), never on the front
BASELINE_TAG, BASELINE = ("tag:arm", "baseline")
# what a front trial is judged on against the baseline: the important class's test recall (the front was
# chosen on validation values, so those favour it), its validation recall when no test value is recorded
BEATS_ON = ("test_important_class_recall", "val_important_class_recall")


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Mask of the rows no other row dominates (at least as good in every column, better in one);
    larger is better in every column."""
    at_least = (values[:, None, :] <= values[None, :, :]).all(axis=2)
    better = (values[:, None, :] < values[None, :, :]).any(axis=2)
    return ~(at_least & better).any(axis=1)


def is_baseline(trials: pd.DataFrame) -> pd.Series:
    """The trials of the study's baseline arm (tagged ``arm=baseline``)."""
    if BASELINE_TAG not in trials:
        return pd.Series(False, index=trials.index)
    return trials[BASELINE_TAG].eq(BASELINE)


def pareto_info(trials: pd.DataFrame, metrics: list[str], modes: list[str]) -> dict[str, Any]:
    """The Pareto front of a multi-objective study and a summary of each arm, without ranking by any one objective.

    ``points``: every finished trial with all objectives (its arm, objective values, test metrics,
    whether it is on the front); ``front``: the non-dominated searched trials in the order of the first
    objective (for reading, not ranking); ``arms``: per ``loss.output`` the number of trials, its
    ``kind`` and per objective and test metric a summary. A searched arm's trials are configurations
    the sampler chose, not replicates of one, so a mean with a t interval would estimate nothing: its
    summary is descriptive (``spread``: median and range, no interval). A baseline arm's trials are one
    configuration on several seeds (``kind`` "replicates"): the mean with its 95% t interval. Trials of a baseline arm (tag
    ``arm=baseline``, e.g. CE beside a CAMRI search) are drawn and summarised (``baseline``: its seeds,
    mean, t interval and prediction interval of one run per metric) but never on the front; each front
    trial then carries ``vs_baseline``, its verdict against the baseline (``versus_baseline``).
    """
    from analysis.contrasts import mean_interval

    columns = [f"metric:{m}" for m in metrics]
    done = trials[(trials["status"] == "FINISHED")] if "status" in trials else trials
    done = (
        done[done[columns].notna().all(axis=1)]
        if set(columns) <= set(done.columns)
        else done.iloc[:0]
    )
    base = is_baseline(done)
    sign = np.array([1.0 if m == "max" else -1.0 for m in modes])
    front = np.zeros(len(done), dtype=bool)
    if (~base).any():
        front[~base.to_numpy()] = non_dominated(done[~base][columns].to_numpy(float) * sign)
    extra = [c for c in PARETO_EXTRA if c in done and c not in columns]
    varying = [
        c
        for c in done[~base]
        if c.startswith("param:") and c != ARM_KEY and done[~base][c].nunique(dropna=True) > 1
    ]
    points = []
    for on_front, in_baseline, (_, row) in zip(front, base, done.iterrows()):
        arm = str(row.get(ARM_KEY, "all"))
        points.append(
            {
                "run_id": row["run_id"],
                "arm": f"{arm} (baseline)" if in_baseline else arm,
                "front": bool(on_front),
                "baseline": bool(in_baseline),
                "seed": _seed(row),
                "values": {c[len("metric:") :]: float(row[c]) for c in columns},
                "test": {c[len("metric:") :]: _num(row[c]) for c in extra},
                "params": {
                    c[len("param:") :]: (None if pd.isna(row[c]) else row[c]) for c in varying
                },
            }
        )
    ordered = sorted(
        (p for p in points if p["front"]), key=lambda p: sign[0] * -p["values"][metrics[0]]
    )
    arms = {}
    for arm in sorted({p["arm"] for p in points}):
        mine = [p for p in points if p["arm"] == arm]
        replicates = all(p["baseline"] for p in mine)
        summary = mean_interval if replicates else spread
        arms[arm] = {
            "trials": len(mine),
            "kind": "replicates" if replicates else "searched",
            **{m: summary([p["values"][m] for p in mine]) for m in metrics},
            **{
                t: summary([p["test"][t] for p in mine if p["test"][t] is not None])
                for t in (c[len("metric:") :] for c in extra)
            },
        }
    baseline = baseline_info(
        [p for p in points if p["baseline"]], metrics + [c[len("metric:") :] for c in extra]
    )
    if baseline is not None:
        for point in ordered:
            point["vs_baseline"] = versus_baseline(point, baseline)
    return {
        "metrics": metrics,
        "modes": modes,
        "points": points,
        "front": ordered,
        "arms": arms,
        "baseline": baseline,
    }


def spread(values: list[float]) -> dict[str, Any]:
    """Median and range of a searched arm's values: a description of the trials the search ran,
    with no interval (they are not replicates of one configuration)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if not x.size:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {
        "n": int(x.size),
        "median": float(np.median(x)),
        "min": float(x.min()),
        "max": float(x.max()),
    }


def _seed(row: pd.Series) -> int:
    seed = row.get("param:train.seed")
    return 0 if seed is None or pd.isna(seed) else int(seed)


def _value(point: dict[str, Any], metric: str) -> float | None:
    return point["values"].get(metric, point["test"].get(metric))


def baseline_info(points: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any] | None:
    """The baseline arm over its seeds: per metric the mean, its 95% t interval and the 95% prediction
    interval of one run (``analysis.contrasts.prediction_interval``), and each seed's value; None
    without baseline trials."""
    from analysis.contrasts import prediction_interval

    if not points:
        return None
    by_seed = sorted(points, key=lambda p: p["seed"])
    return {
        "arm": by_seed[0]["arm"],
        "trials": len(points),
        "seeds": [p["seed"] for p in by_seed],
        "metrics": {
            m: {
                **prediction_interval([_value(p, m) for p in by_seed]),
                "per_seed": {p["seed"]: _value(p, m) for p in by_seed},
            }
            for m in metrics
        },
    }


def versus_baseline(point: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Whether one searched trial beats the baseline on the important class's recall (``BEATS_ON``):
    ``above`` its 95% prediction interval of one baseline run (it beats the baseline by more than the
    seeds move the baseline), ``below`` it, or ``within`` it; ``unknown`` without that interval (fewer
    than two baseline seeds, or no spread among them). Also the trial minus the baseline's mean, and minus the baseline on the trial's own seed."""
    metric = next(
        (m for m in BEATS_ON if _value(point, m) is not None and m in baseline["metrics"]), None
    )
    if metric is None:
        return {
            "metric": None,
            "verdict": "unknown",
            "value": None,
            "minus_mean": None,
            "minus_same_seed": None,
        }
    value, stats = _value(point, metric), baseline["metrics"][metric]
    same = stats["per_seed"].get(point["seed"])
    if stats["pred_low"] is None:
        verdict = "unknown"
    else:
        verdict = (
            "above"
            if value > stats["pred_high"]
            else "below"
            if value < stats["pred_low"]
            else "within"
        )
    return {
        "metric": metric,
        "verdict": verdict,
        "value": value,
        "minus_mean": None if stats["mean"] is None else value - stats["mean"],
        "minus_same_seed": None if same is None else value - same,
        "pred_low": stats["pred_low"],
        "pred_high": stats["pred_high"],
    }


__all__ = [
    "ARM_KEY",
    "BASELINE",
    "BASELINE_TAG",
    "BEATS_ON",
    "GROUPS",
    "PER_CLASS",
    "baseline_info",
    "group_info",
    "history_info",
    "is_baseline",
    "non_dominated",
    "pareto_info",
    "proxy_cosine_info",
    "ranked",
    "schedule_candidates",
    "schedule_info",
    "spread",
    "versus_baseline",
]
