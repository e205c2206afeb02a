"""Intervals for the bench's figures: a mean with its t-interval, and a ratio of paired runs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

LEVEL = 0.95


def mean_interval(values: Sequence[float], level: float = LEVEL) -> dict[str, float | int | None]:
    """The mean of ``values`` and its two-sided t-interval (None with fewer than two values)."""
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    if n < 2:
        return {"mean": mean, "low": None, "high": None, "n": n, "level": level}
    sem = stats.sem(values)
    if sem == 0:
        return {"mean": mean, "low": mean, "high": mean, "n": n, "level": level}
    low, high = stats.t.interval(level, n - 1, loc=mean, scale=sem)
    return {"mean": mean, "low": float(low), "high": float(high), "n": n, "level": level}


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
    }


def fmt_interval(interval: dict, digits: int = 2) -> str:
    """``1.23 [1.10, 1.37]`` or ``1.23 (one run: no interval)``."""
    mean = interval["mean"]
    if mean is None:
        return "-"
    if interval["low"] is None:
        return f"{mean:.{digits}f} (n={interval['n']}: no interval)"
    return f"{mean:.{digits}f} [{interval['low']:.{digits}f}, {interval['high']:.{digits}f}]"


__all__ = ["LEVEL", "fmt_interval", "mean_interval", "ratio_interval"]
