"""Paired comparisons between the cells of a replicated grid (seed reproductions).

Every cell of a grid preset runs on the same seeds, so ``cell - baseline`` on seed k cancels
what seed k does to both (initialisation, data order, the class subset). Per cell this module
gives the mean over seeds with a 95% t interval; per contrast the mean paired difference with its
t interval and the probability of improvement P(A > B) over the paired runs (Bouthillier et al.,
MLSys 2021) with an exact binomial (Clopper-Pearson) interval; per design the smallest effect it
resolves.

Input is the trials frame of ``analysis.load.load_trials``; everything here is plain
pandas/SciPy/statsmodels, no MLflow and no plotting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
POWER = 0.8
SEED_COLUMN = "param:train.seed"


def _same(value: Any, wanted: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) == str(wanted)


def cell_mask(trials: pd.DataFrame, cell: Mapping[str, Any]) -> pd.Series:
    """Trials whose params match every ``{flat key: value}`` of ``cell``."""
    mask = pd.Series(True, index=trials.index)
    for key, wanted in cell.items():
        column = f"param:{key}"
        if column not in trials:
            return pd.Series(False, index=trials.index)
        mask &= trials[column].map(lambda v, w=wanted: _same(v, w))
    return mask


def per_seed(
    trials: pd.DataFrame,
    cells: Mapping[str, Mapping[str, Any]],
    columns: Mapping[str, tuple[str, float]],
    select: str,
    mode: str,
) -> pd.DataFrame:
    """One row per (cell, seed): the finished trial of that cell and seed (the best by ``select`` when a
    cell searched more than its seed) and each column's final metric times its factor.

    ``columns`` maps a label to ``(metric, factor)``; trials without a recorded ``train.seed`` count
    as seed 0. Columns: ``cell``, ``seed``, ``run_id``, then one per label.
    """
    rows = []
    select_col = f"metric:{select}"
    done = trials[trials["status"] == "FINISHED"] if "status" in trials else trials
    if select_col in done:
        done = done[done[select_col].notna()]
    else:
        done = done.iloc[:0]
    seeds = done[SEED_COLUMN] if SEED_COLUMN in done else pd.Series(0, index=done.index)
    for name, cell in cells.items():
        group = done[cell_mask(done, cell)]
        for seed, runs in group.groupby(seeds[group.index].fillna(0).astype(int), sort=True):
            best = runs.loc[
                runs[select_col].idxmax() if mode == "max" else runs[select_col].idxmin()
            ]
            row: dict[str, Any] = {"cell": name, "seed": int(seed), "run_id": best["run_id"]}
            for label, (metric, factor) in columns.items():
                value = best.get(f"metric:{metric}")
                row[label] = None if value is None or pd.isna(value) else float(value) * factor
            rows.append(row)
    return pd.DataFrame(rows, columns=["cell", "seed", "run_id", *columns])


def mean_interval(values: Any, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Mean, sample sd and two-sided t interval of the finite ``values``.

    No interval (bounds None, and a ``note`` saying why) below two values, or when every value is
    the same: a sample sd of 0 says nothing about the spread, and the t interval would have width 0.
    The sd is then exactly 0 (not the rounding error of the mean)."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    out: dict[str, Any] = {
        "n": int(x.size),
        "mean": float(x.mean()) if x.size else None,
        "sd": None,
        "low": None,
        "high": None,
        "note": None,
    }
    if x.size < 2:
        out["note"] = f"{'one run' if x.size else 'no runs'}: no interval"
    elif x.min() == x.max():
        out["sd"], out["mean"] = 0.0, float(x[0])
        out["note"] = f"no spread in {x.size} runs: no interval"
    else:
        out["sd"] = float(x.std(ddof=1))
        ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence)
        out["low"], out["high"] = float(ci.low), float(ci.high)
    return out


def prediction_interval(values: Any, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``mean_interval`` plus the two-sided t prediction interval of one more run,
    mean +- t sd sqrt(1 + 1/n) (``pred_low``, ``pred_high``; None wherever the mean has no interval):
    where a single run of the same configuration on a new seed falls with probability ``confidence``."""
    from scipy import stats

    out = mean_interval(values, confidence)
    out["pred_low"] = out["pred_high"] = None
    if out["low"] is not None:
        half = (
            float(stats.t.ppf((1 + confidence) / 2, out["n"] - 1))
            * out["sd"]
            * math.sqrt(1 + 1 / out["n"])
        )
        out["pred_low"], out["pred_high"] = out["mean"] - half, out["mean"] + half
    return out


def improvement(a: Any, b: Any, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """P(A > B) over paired runs: the share of the untied pairs that A wins, with its exact
    (Clopper-Pearson) interval from the binomial count of wins (scipy's ``binomtest``).

    Ties are left out, as in the sign test: a pair that neither side wins says nothing about which
    wins more often, and counting it as half a win would make the count of wins fractional.
    ``wins``, ``losses`` and ``ties`` are returned beside the estimate; all None when every pair tied.
    The interval is exact for any number of pairs: with all of 3 pairs won it is [0.29, 1], and it
    lies above one half only from 6 pairs on (all won)."""
    from scipy import stats

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    wins, losses = int(np.sum(x > y)), int(np.sum(x < y))
    out: dict[str, Any] = {
        "wins": wins,
        "losses": losses,
        "ties": int(x.size) - wins - losses,
        "p_improve": None,
        "p_low": None,
        "p_high": None,
    }
    if wins + losses:
        ci = stats.binomtest(wins, wins + losses).proportion_ci(confidence, method="exact")
        out.update(p_improve=wins / (wins + losses), p_low=float(ci.low), p_high=float(ci.high))
    return out


def paired_contrast(a: pd.Series, b: pd.Series, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``a - b`` over the seeds both have (Series indexed by seed): the mean paired difference with
    its t interval (None below two pairs), and P(A > B) with its exact interval (``improvement``)."""
    both = pd.concat({"a": a, "b": b}, axis=1).dropna()
    diff = mean_interval((both["a"] - both["b"]).tolist(), confidence)
    return {
        "pairs": diff["n"],
        "mean": diff["mean"],
        "sd": diff["sd"],
        "low": diff["low"],
        "high": diff["high"],
        "note": diff["note"],
        **improvement(both["a"].to_numpy(float), both["b"].to_numpy(float), confidence),
        "seeds": [int(s) for s in both.index],
    }


def resolution(
    sd: float | None, n: int, alpha: float = 1 - CONFIDENCE, power: float = POWER
) -> dict[str, Any]:
    """The smallest true contrast a paired design of ``n`` seeds detects with ``power`` at two-sided
    level ``alpha``, given the sd of the contrast over seeds: the exact paired-t value from
    statsmodels (``t``: the test the contrasts are judged by), and the normal approximation
    (z_{1-alpha/2} + z_power) sd / sqrt(n) (``normal``: about 2.8 sd / sqrt(n), too small at few
    seeds). Both None, with a ``note``, below two seeds or when the contrasts showed no spread
    (sd = 0: the spread is unknown, not zero)."""
    from scipy import stats
    from statsmodels.stats.power import TTestPower

    out: dict[str, Any] = {
        "n": n,
        "sd": sd,
        "alpha": alpha,
        "power": power,
        "normal": None,
        "t": None,
        "note": None,
    }
    if sd is None or n < 2 or not np.isfinite(sd):
        out["note"] = "it needs at least two paired seeds per cell"
        return out
    if sd == 0:
        out["note"] = f"no contrast varied over its {n} paired seeds, so their spread is unknown"
        return out
    out["normal"] = float(
        (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd / math.sqrt(n)
    )
    out["t"] = float(
        TTestPower().solve_power(nobs=n, alpha=alpha, power=power, alternative="two-sided") * sd
    )
    return out


def compare_cells(
    values: pd.DataFrame,
    labels: list[str],
    baseline: str,
    order: list[str],
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Per cell and label the mean over seeds with its interval; per cell other than ``baseline`` and
    label the paired contrast against the baseline; per label the design's resolution (from the
    pooled sd of its contrasts and the number of seeds).

    ``values`` is ``per_seed``'s frame; ``order`` lists the cells to report, the baseline among them.
    """
    cells: dict[str, dict[str, Any]] = {}
    contrasts: dict[str, dict[str, Any]] = {}
    resolutions: dict[str, Any] = {}
    for cell in order:
        rows = values[values["cell"] == cell]
        cells[cell] = {
            "seeds": int(rows["seed"].nunique()),
            **{label: mean_interval(rows[label].dropna().tolist(), confidence) for label in labels},
        }
    base = values[values["cell"] == baseline].set_index("seed")
    for label in labels:
        variances, pairs = [], []
        for cell in order:
            if cell == baseline:
                continue
            rows = values[values["cell"] == cell].set_index("seed")
            c = paired_contrast(rows[label].astype(float), base[label].astype(float), confidence)
            contrasts.setdefault(cell, {})[label] = c
            if c["sd"] is not None:
                variances.append(c["sd"] ** 2)
                pairs.append(c["pairs"])
        sd = math.sqrt(float(np.mean(variances))) if variances else None
        resolutions[label] = resolution(sd, min(pairs) if pairs else 0, 1 - confidence)
    return {
        "baseline": baseline,
        "confidence": confidence,
        "cells": cells,
        "contrasts": contrasts,
        "resolution": resolutions,
    }


__all__ = [
    "CONFIDENCE",
    "POWER",
    "SEED_COLUMN",
    "cell_mask",
    "compare_cells",
    "improvement",
    "mean_interval",
    "paired_contrast",
    "per_seed",
    "prediction_interval",
    "resolution",
]
