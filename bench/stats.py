"""Intervals for the bench's figures: a mean with its t-interval, and a ratio of paired runs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

LEVEL = 0.95


def mean_interval(values: Sequence[float], level: float = LEVEL) -> dict[str, float | int | None]:
    """The mean of ``values`` and its two-sided t-interval; no interval (None, and a ``note`` saying
    why) with fewer than two values or when they are all the same (an sd of 0 is no spread measured,
    and its interval would have width 0)."""
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    out = {"mean": mean, "low": None, "high": None, "n": n, "level": level, "note": None}
    if n < 2:
        out["note"] = f"n={n}: no interval"
    elif min(values) == max(values):
        out["mean"], out["note"] = float(values[0]), f"no spread in {n} runs: no interval"
    else:
        low, high = stats.t.interval(level, n - 1, loc=mean, scale=stats.sem(values))
        out["low"], out["high"] = float(low), float(high)
    return out


def ratio_interval(ratios: Sequence[float], level: float = LEVEL) -> dict[str, float | int | None]:
    """The geometric mean of paired ratios and its t-interval on the log scale."""
    logs = mean_interval([math.log(r) for r in ratios], level)
    exp = lambda v: None if v is None else math.exp(v)  # noqa: E731
    return {
        "mean": exp(logs["mean"]) if ratios else None,
        "low": exp(logs["low"]),
        "high": exp(logs["high"]),
        "n": len(ratios),
        "level": level,
        "note": logs["note"],
    }


def fmt_interval(interval: dict, digits: int = 2) -> str:
    """``1.23 [1.10, 1.37]``, or ``1.23 (n=1: no interval)`` / ``1.23 (no spread in 3 runs: no interval)``."""
    mean = interval["mean"]
    if mean is None:
        return "-"
    if interval["low"] is None:
        note = interval.get("note") or f"n={interval['n']}: no interval"
        return f"{mean:.{digits}f} ({note})"
    return f"{mean:.{digits}f} [{interval['low']:.{digits}f}, {interval['high']:.{digits}f}]"


__all__ = ["LEVEL", "fmt_interval", "mean_interval", "ratio_interval"]
