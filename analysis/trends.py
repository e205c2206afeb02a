"""The optimum softmax scale per class count, and the law s*(C) = a ln(C - 1) + b (pure functions).

Estimator. For one class count C the trials give points (ln s_i, m_i). The metric-vs-ln(s) curve
is smoothed with a Gaussian kernel (Nadaraya-Watson, bandwidth ``bandwidth`` in ln units) and
s*(C) is the argmax of the smoothed curve on a grid spanning the searched range. Smoothing pools
neighbouring trials, so s* is not the winner's-curse pick of the single luckiest trial (the best
trial's scale is reported beside it). An optimum on the edge of the searched range is flagged:
the true one may lie outside. Uncertainty: a bootstrap over trials, resampled with replacement
within each C (the number of trials per C is fixed by the study design), seeded; the 95%
interval is the 2.5/97.5 percentile of s* over the resamples.

Law. AdaCos (Zhang et al. CVPR 2019) predicts s_f = sqrt(2) ln(C - 1). We fit a and b by weighted
least squares (``scipy.optimize.curve_fit``, weights 1/bootstrap sd, residual-scaled covariance)
with 95% t-intervals on n - 2 degrees of freedom, and, as a check, percentile intervals from
refitting every bootstrap replicate. R^2 is unweighted. A 2-parameter fit with intervals needs at
least 3 distinct class counts; with fewer only the per-C optima are returned.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.reference import THESIS_OPTIMA
from trainables.schedules import adacos_fixed_scale

SCALE, CLASSES = "param:scale.start", "param:data.num_classes"
BANDWIDTH = 0.3  # ln units: trials within a factor e^0.3 = 1.35 of s weigh >= 0.6 of the centre
GRID_POINTS = 200
N_BOOT = 1000
MIN_CLASS_COUNTS = 3  # a 2-parameter fit with a confidence interval needs n - 2 >= 1


@dataclass(frozen=True)
class ClassOptimum:
    """s* for one class count, with the curve it was read from (for plotting)."""

    num_classes: int
    trials: int
    scale: float  # s*: argmax of the smoothed curve
    ci_low: float  # 95% bootstrap percentile interval of s*
    ci_high: float
    sd: float  # bootstrap standard deviation of s*
    at_edge: bool  # s* is on the edge of the searched scales
    best_scale: float  # the single best trial's scale
    best_value: float
    best_run_id: str
    adacos_scale: float  # sqrt(2) ln(C - 1)
    points: dict[str, list] = field(default_factory=dict, repr=False)  # scale, value, run_id
    curve: dict[str, list] = field(default_factory=dict, repr=False)  # scale, value (smoothed)


@dataclass(frozen=True)
class LawFit:
    """s*(C) = a ln(C - 1) + b with 95% intervals."""

    a: float
    b: float
    a_ci: tuple[float, float]  # t-interval from curve_fit's covariance
    b_ci: tuple[float, float]
    a_ci_bootstrap: tuple[float, float]  # percentile interval over bootstrap refits
    b_ci_bootstrap: tuple[float, float]
    r2: float
    n_points: int
    covariance: list[list[float]]
    band: dict[str, list] = field(default_factory=dict, repr=False)  # num_classes, fit, low, high, adacos

    @property
    def formula(self) -> str:
        """``a ln(C - 1) + b`` with the numbers in."""
        return f"{self.a:.3g} ln(C - 1) {'-' if self.b < 0 else '+'} {abs(self.b):.3g}"


@dataclass(frozen=True)
class TrendResult:
    """Everything ``study trend`` reports for one study."""

    experiment: str
    metric: str
    mode: str
    optima: list[ClassOptimum]
    fit: LawFit | None
    message: str  # one line: what was fitted, or why not
    excluded: dict[str, int]  # reason -> trials left out
    bandwidth: float
    n_boot: int
    seed: int
    reference: list[dict[str, Any]] = field(default_factory=lambda: [asdict(r) for r in THESIS_OPTIMA])

    def to_dict(self, curves: bool = False) -> dict[str, Any]:
        """Plain JSON-ready data; ``curves`` keeps the per-C points, smoothed curves and fit band."""
        out = asdict(self)
        if not curves:
            for optimum in out["optima"]:
                optimum.pop("points"), optimum.pop("curve")
            if out["fit"]:
                out["fit"].pop("band")
        out["adacos"] = {"a": float(np.sqrt(2.0)), "b": 0.0, "formula": "sqrt(2) ln(C - 1)"}
        return out


def law(num_classes: np.ndarray, a: float, b: float) -> np.ndarray:
    """s*(C) = a ln(C - 1) + b."""
    return a * np.log(np.asarray(num_classes, dtype=float) - 1.0) + b


def scale_trials(trials: pd.DataFrame, metric: str, statuses=("finished", "stopped_early")) -> tuple[pd.DataFrame, dict[str, int]]:
    """The trials that speak to the optimum constant scale, and how many were left out and why.

    Kept: MLflow status FINISHED with ``metric`` recorded, trial_status in ``statuses``, a
    constant schedule, an output loss that has a scale, and a known class count C >= 3.
    """
    from search_spaces.scale import SCALED_LOSSES

    def col(t: pd.DataFrame, name: str, default: Any) -> pd.Series:
        return t[name] if name in t else pd.Series(default, index=t.index)

    checks = [
        (f"not FINISHED or no {metric}", lambda t: (t["status"] == "FINISHED") & col(t, f"metric:{metric}", np.nan).notna()),
        ("trial status not " + "/".join(statuses), lambda t: col(t, "tag:trial_status", statuses[0]).isin(statuses)),
        ("scale schedule is not constant", lambda t: col(t, "param:scale.schedule", "constant") == "constant"),
        ("output loss has no scale", lambda t: col(t, "param:loss.output", SCALED_LOSSES[0]).isin(SCALED_LOSSES)),
        ("no scale.start or data.num_classes", lambda t: col(t, SCALE, np.nan).notna() & col(t, CLASSES, np.nan).notna()),
        ("data.num_classes < 3 (0 = all: count not recorded)", lambda t: pd.to_numeric(col(t, CLASSES, 0), errors="coerce") >= 3),
    ]
    excluded: dict[str, int] = {}
    kept = trials
    for reason, keep in checks:
        mask = keep(kept)
        if (~mask).any():
            excluded[reason] = int((~mask).sum())
        kept = kept[mask]
    return kept.reset_index(drop=True), excluded


def _smooth(log_s: np.ndarray, values: np.ndarray, counts: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Nadaraya-Watson curves on ``grid`` for each row of ``counts`` (trial multiplicities): (B, G)."""
    kernel = np.exp(-0.5 * ((grid[:, None] - log_s[None, :]) / bandwidth) ** 2)  # (G, n)
    num = (counts * values[None, :]) @ kernel.T
    den = counts @ kernel.T
    return num / np.maximum(den, 1e-300)


def class_optimum(group: pd.DataFrame, metric: str, mode: str, *, bandwidth: float = BANDWIDTH,
                  n_boot: int = N_BOOT, seed: int = 0) -> ClassOptimum:
    """s* for the trials of one class count (see the module docstring for the estimator)."""
    return _class_optimum(group, metric, mode, bandwidth, n_boot, np.random.default_rng(seed))[0]


def _class_optimum(group: pd.DataFrame, metric: str, mode: str, bandwidth: float, n_boot: int,
                   rng: np.random.Generator) -> tuple[ClassOptimum, np.ndarray]:
    """The optimum and its bootstrap replicates of s* (n_boot values)."""
    scales = group[SCALE].to_numpy(float)
    values = group[f"metric:{metric}"].to_numpy(float)
    sign = 1.0 if mode == "max" else -1.0
    log_s = np.log(scales)
    grid = np.linspace(log_s.min(), log_s.max(), GRID_POINTS)
    n = len(scales)
    full = _smooth(log_s, values, np.ones((1, n)), grid, bandwidth)[0]
    s_star = float(np.exp(grid[np.argmax(sign * full)]))
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    boot = np.exp(grid[np.argmax(sign * _smooth(log_s, values, counts, grid, bandwidth), axis=1)])
    best = int(np.argmax(sign * values))
    c = int(group[CLASSES].iloc[0])
    on_edge = np.ptp(log_s) > 0 and s_star in (float(np.exp(grid[0])), float(np.exp(grid[-1])))
    optimum = ClassOptimum(
        num_classes=c, trials=n, scale=s_star,
        ci_low=float(np.percentile(boot, 2.5)), ci_high=float(np.percentile(boot, 97.5)),
        sd=float(boot.std(ddof=1)) if n_boot > 1 else 0.0, at_edge=bool(on_edge),
        best_scale=float(scales[best]), best_value=float(values[best]), best_run_id=str(group["run_id"].iloc[best]),
        adacos_scale=adacos_fixed_scale(c),
        points={"scale": scales.tolist(), "value": values.tolist(), "run_id": group["run_id"].astype(str).tolist()},
        curve={"scale": np.exp(grid).tolist(), "value": full.tolist()},
    )
    return optimum, boot


def fit_law(num_classes, scales, sd=None, boot: np.ndarray | None = None, band_to: float = 0.0) -> LawFit:
    """Fit s*(C) = a ln(C - 1) + b to per-C optima (>= 3 distinct C), weighted by 1/sd.

    ``boot`` (n_boot x n, the bootstrap replicates of s* per C) adds percentile intervals from
    refitting each replicate. The band spans the fitted C range (x1.5 each way), extended up to
    ``band_to`` (e.g. to reach the thesis's C = 100). A zero sd (every resample agreed) is
    floored at a quarter of the median positive sd, so one point cannot take all the weight.
    """
    c = np.asarray(num_classes, dtype=float)
    y = np.asarray(scales, dtype=float)
    n = len(c)
    if len(np.unique(c)) < MIN_CLASS_COUNTS:
        raise ValueError(f"a fit of a and b with intervals needs >= {MIN_CLASS_COUNTS} distinct class counts, got {len(np.unique(c))}")
    sigma = _sigma(np.zeros(n) if sd is None else np.asarray(sd, dtype=float))
    (a, b), cov = optimize.curve_fit(law, c, y, p0=(np.sqrt(2.0), 0.0), sigma=sigma, absolute_sigma=False)
    t = stats.t.ppf(0.975, n - 2)
    se = np.sqrt(np.diag(cov))
    residual = y - law(c, a, b)
    total = np.sum((y - y.mean()) ** 2)
    r2 = float(1.0 - np.sum(residual**2) / total) if total > 0 else float("nan")
    a_boot = b_boot = (float("nan"), float("nan"))
    if boot is not None and len(boot) > 1:
        design = np.column_stack([np.log(c - 1.0), np.ones(n)]) / sigma[:, None]
        coef = np.linalg.lstsq(design, (np.asarray(boot, dtype=float) / sigma[None, :]).T, rcond=None)[0]
        a_boot = tuple(float(v) for v in np.percentile(coef[0], [2.5, 97.5]))
        b_boot = tuple(float(v) for v in np.percentile(coef[1], [2.5, 97.5]))
    grid = np.geomspace(max(3.0, c.min() / 1.5), max(c.max() * 1.5, band_to), 100)
    jac = np.column_stack([np.log(grid - 1.0), np.ones_like(grid)])
    half = t * np.sqrt(np.einsum("ij,jk,ik->i", jac, cov, jac))
    fit = law(grid, a, b)
    return LawFit(
        a=float(a), b=float(b), a_ci=(float(a - t * se[0]), float(a + t * se[0])),
        b_ci=(float(b - t * se[1]), float(b + t * se[1])), a_ci_bootstrap=a_boot, b_ci_bootstrap=b_boot,
        r2=r2, n_points=n, covariance=cov.tolist(),
        band={"num_classes": grid.tolist(), "fit": fit.tolist(), "low": (fit - half).tolist(),
              "high": (fit + half).tolist(), "adacos": [adacos_fixed_scale(g) for g in grid]},
    )


def _sigma(sd: np.ndarray) -> np.ndarray:
    positive = sd[sd > 0]
    if not len(positive):
        return np.ones_like(sd)
    return np.maximum(sd, 0.25 * float(np.median(positive)))


def scale_trend(trials: pd.DataFrame, metric: str = "val_accuracy", mode: str = "max", *, experiment: str = "",
                bandwidth: float = BANDWIDTH, n_boot: int = N_BOOT, seed: int = 0) -> TrendResult:
    """Per-C optima and, with >= 3 class counts, the fitted law; never raises for too little data."""
    kept, excluded = scale_trials(trials, metric)
    rng = np.random.default_rng(seed)
    found = [_class_optimum(g, metric, mode, bandwidth, n_boot, rng) for _, g in kept.groupby(CLASSES, sort=True)]
    optima = [o for o, _ in found]
    fit, counts = None, [o.num_classes for o in optima]
    if not optima:
        message = f"no trial of a scaled loss with a constant scale, a class count >= 3 and {metric} recorded"
    elif len(optima) < MIN_CLASS_COUNTS:
        message = (f"only {len(optima)} class count(s) (C = {', '.join(map(str, counts))}); a fit of a and b "
                   f"with intervals needs >= {MIN_CLASS_COUNTS}: reporting the per-C optima only")
    else:
        boot = np.column_stack([b for _, b in found])
        reach = 1.2 * max(r.num_classes for r in THESIS_OPTIMA)
        fit = fit_law(counts, [o.scale for o in optima], [o.sd for o in optima], boot, band_to=reach)
        message = (f"s*(C) = {fit.formula} (a in [{fit.a_ci[0]:.3g}, {fit.a_ci[1]:.3g}], "
                   f"b in [{fit.b_ci[0]:.3g}, {fit.b_ci[1]:.3g}], R^2 = {fit.r2:.3f}) over C = {', '.join(map(str, counts))}; "
                   f"AdaCos: a = 1.41, b = 0")
    return TrendResult(experiment=experiment, metric=metric, mode=mode, optima=optima, fit=fit, message=message,
                       excluded=excluded, bandwidth=bandwidth, n_boot=n_boot, seed=seed)


__all__ = ["ClassOptimum", "LawFit", "TrendResult", "class_optimum", "fit_law", "law", "scale_trend", "scale_trials"]
