"""The law s*(C) = a ln(C - 1) + b over the per-C vertices of ``analysis.response`` (pure functions).

Per C, ``analysis.response`` fits the metric-vs-ln(s) curve and gives the vertex s*(C) with a 95%
interval, or says why there is no interior maximum. Only interior vertices enter the law.

Law. Weighted least squares of s*(C) on ln(C - 1) with the per-C variances sd^2 treated as known
(statsmodels WLS, ``cov_type="fixed scale"``): the covariance of (a, b) is (X' W X)^-1 and the
95% intervals are normal (z) intervals, widened by the scale factor sqrt(chi^2 / df) when the
vertices scatter about the law more than their own intervals allow (chi^2 > df; the Particle
Data Group's rule). The per-C sds are themselves estimates from few residual degrees of freedom;
in simulations of the default design a's interval covered the truth in 91% of studies with the
known-variance covariance alone and in 93-95% with the factor. The one-parameter ratio gamma = s* / (sqrt(2) ln(C - 1))
is the same fit through the origin on sqrt(2) ln(C - 1) (with its own factor); AdaCos (Zhang et al., CVPR 2019)
predicts gamma = 1, i.e. a = sqrt(2), b = 0. Lack of fit of the law against free per-C vertices:
chi^2 = sum of (s* - law)^2 / sd^2 on n - 2 degrees of freedom (n - 1 for gamma). Both need
>= 3 class counts with an interior vertex; with fewer the per-C table is reported and one line
says why the law is not fitted.

Cross-check (not the headline): the argmax of a Gaussian-kernel smoother of metric vs ln s per C
(bandwidth in ln units) with a percentile bootstrap over trials. It ignores seeds and the design
and reads an optimum even off a flat curve; it is kept to show how far a model-free reading lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.reference import THESIS_OPTIMA
from analysis.response import (
    CLASSES,
    SCALE,
    ClassResponse,
    class_responses,
    is_staged,
    scale_trials,
)
from trainables.metric_names import VAL_ACCURACY
from trainables.schedules import adacos_fixed_scale

BANDWIDTH = 0.3  # cross-check smoother, ln units
GRID_POINTS = 200
N_BOOT = 1000
MIN_CLASS_COUNTS = 3  # a and b with a lack-of-fit test need n - 2 >= 1
Z = float(stats.norm.ppf(0.975))
RESOLUTION_POWER = 0.9  # the power the law's resolution is stated at
SQRT2 = float(np.sqrt(2.0))
REFERENCE_NOTE = (
    "the thesis's optima are SoftTriple Recall@1 on unseen CUB-200 / Cars-196 classes: a different metric "
    "and dataset, not comparable to this study's s*"
)


@dataclass(frozen=True)
class LawFit:
    """s*(C) = a ln(C - 1) + b and gamma = s* / (sqrt(2) ln(C - 1)) with 95% z-intervals (known variances)."""

    a: float
    b: float
    a_ci: tuple[float, float]
    b_ci: tuple[float, float]
    covariance: list[list[float]]  # of (a, b)
    gamma: float
    gamma_ci: tuple[float, float]
    chi2: float  # the law against free per-C vertices
    df: int
    lack_of_fit_p: float
    gamma_chi2: float  # gamma's one-parameter law against free vertices
    gamma_lack_of_fit_p: float
    scale_factor: float  # sqrt(max(1, chi2 / df)): how much the intervals of a and b were widened
    gamma_scale_factor: float  # the same for gamma
    n_points: int
    class_counts: list[int]
    # the smallest |a - a0| a two-sided 5% z test of a = a0 detects with 90% power: (z_0.975 + z_0.9) se(a)
    resolution_a: float
    # num_classes, fit, low, high, adacos
    band: dict[str, list] = field(default_factory=dict, repr=False)

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
    optima: list[ClassResponse]  # one fitted response curve per class count
    fit: LawFit | None
    message: str  # one line: the law, or why it is not fitted
    excluded: dict[str, int]  # reason -> trials left out
    staged: bool  # the study recorded stages (only the estimation stage was fitted)
    cross_check: list[dict[str, Any]]  # kernel-smoother argmax per C (not the headline)
    bandwidth: float
    n_boot: int
    seed: int
    reference: list[dict[str, Any]] = field(
        default_factory=lambda: [asdict(r) for r in THESIS_OPTIMA]
    )
    reference_note: str = REFERENCE_NOTE
    model: str = "auto"  # the model rule of analysis.response.MODELS
    # the other form, s* = c (C - 1)^k (analysis.power_law), fitted wherever the law is
    power_law: Any = None

    def to_dict(self, curves: bool = False) -> dict[str, Any]:
        """Plain JSON-ready data; ``curves`` keeps the per-C points, fitted curves and the law's band."""
        out = asdict(self)
        for optimum in out["optima"]:
            optimum["ci_low"], optimum["ci_high"] = optimum["ci"]
            if not curves:
                optimum.pop("points"), optimum.pop("curve")
        for name in ("fit", "power_law"):
            if out[name] and not curves:
                out[name].pop("band")
        out["adacos"] = {"a": SQRT2, "b": 0.0, "gamma": 1.0, "formula": "sqrt(2) ln(C - 1)"}
        return out


def law(num_classes: np.ndarray, a: float, b: float) -> np.ndarray:
    """s*(C) = a ln(C - 1) + b."""
    return a * np.log(np.asarray(num_classes, dtype=float) - 1.0) + b


def fit_law(
    num_classes: Sequence[float], scales: Sequence[float], sd: Sequence[float], band_to: float = 0.0
) -> LawFit:
    """WLS of s* on ln(C - 1) with known per-C sd (>= 3 distinct C); see the module docstring."""
    from statsmodels.regression.linear_model import WLS

    c = np.asarray(num_classes, dtype=float)
    y = np.asarray(scales, dtype=float)
    sd = np.asarray(sd, dtype=float)
    n = len(c)
    if len(np.unique(c)) < MIN_CLASS_COUNTS:
        raise ValueError(
            f"a fit of a and b with intervals needs >= {MIN_CLASS_COUNTS} distinct class counts, got {len(np.unique(c))}"
        )
    if not (np.all(np.isfinite(sd)) and np.all(sd > 0)):
        raise ValueError("every vertex needs a finite positive sd")
    w = 1.0 / sd**2
    x = np.log(c - 1.0)
    res = WLS(y, np.column_stack([x, np.ones(n)]), weights=w).fit(cov_type="fixed scale")
    (a, b) = np.asarray(res.params)
    chi2 = float(np.sum(w * (y - a * x - b) ** 2))
    factor = float(np.sqrt(max(1.0, chi2 / (n - 2))))
    cov = np.asarray(res.cov_params()) * factor**2
    se = np.sqrt(np.diag(cov))
    g = WLS(y, SQRT2 * x, weights=w).fit(cov_type="fixed scale")
    gamma = float(np.asarray(g.params)[0])
    gamma_chi2 = float(np.sum(w * (y - gamma * SQRT2 * x) ** 2))
    gamma_factor = float(np.sqrt(max(1.0, gamma_chi2 / (n - 1))))
    gamma_se = gamma_factor * float(np.sqrt(np.asarray(g.cov_params())[0, 0]))
    grid = np.geomspace(max(3.0, c.min() / 1.3), max(c.max() * 1.3, band_to), 100)
    jac = np.column_stack([np.log(grid - 1.0), np.ones_like(grid)])
    half = Z * np.sqrt(np.einsum("ij,jk,ik->i", jac, cov, jac))
    fit = law(grid, a, b)
    return LawFit(
        a=float(a),
        b=float(b),
        a_ci=(float(a - Z * se[0]), float(a + Z * se[0])),
        b_ci=(float(b - Z * se[1]), float(b + Z * se[1])),
        covariance=cov.tolist(),
        gamma=gamma,
        gamma_ci=(gamma - Z * gamma_se, gamma + Z * gamma_se),
        chi2=chi2,
        df=n - 2,
        lack_of_fit_p=float(stats.chi2.sf(chi2, n - 2)),
        scale_factor=factor,
        gamma_scale_factor=gamma_factor,
        gamma_chi2=gamma_chi2,
        gamma_lack_of_fit_p=float(stats.chi2.sf(gamma_chi2, n - 1)),
        n_points=n,
        class_counts=[int(v) for v in c],
        resolution_a=float((Z + stats.norm.ppf(RESOLUTION_POWER)) * se[0]),
        band={
            "num_classes": grid.tolist(),
            "fit": fit.tolist(),
            "low": (fit - half).tolist(),
            "high": (fit + half).tolist(),
            "adacos": [adacos_fixed_scale(v) for v in grid],
        },
    )


def law_over(responses: Sequence[ClassResponse]) -> tuple[LawFit | None, str]:
    """The law over the interior vertices, or None and one line saying why not."""
    inside = [r for r in responses if r.interior]
    counts = ", ".join(str(r.num_classes) for r in inside) or "none"
    if len(inside) < MIN_CLASS_COUNTS:
        left = [f"C = {r.num_classes}: {r.reason}" for r in responses if not r.interior]
        return None, (
            f"law not fitted: {len(inside)} of {len(responses)} class count(s) have an interior vertex "
            f"({counts}); a and b with a lack-of-fit test need >= {MIN_CLASS_COUNTS}"
            + (f" ({'; '.join(left)})" if left else "")
        )
    fit = fit_law(
        [r.num_classes for r in inside], [r.scale for r in inside], [r.sd for r in inside]
    )
    return fit, (
        f"s*(C) = {fit.formula} (a in [{fit.a_ci[0]:.3g}, {fit.a_ci[1]:.3g}], b in [{fit.b_ci[0]:.3g}, "
        f"{fit.b_ci[1]:.3g}]); gamma = {fit.gamma:.3g} [{fit.gamma_ci[0]:.3g}, {fit.gamma_ci[1]:.3g}]; "
        f"law vs free vertices chi2 = {fit.chi2:.3g} on {fit.df} df, p = {fit.lack_of_fit_p:.2g}"
        + (
            f" (intervals widened x{fit.scale_factor:.2f} for that scatter)"
            if fit.scale_factor > 1
            else ""
        )
        + "; "
        f"over C = {counts}; resolves slopes {fit.resolution_a:.2g} apart with "
        f"{RESOLUTION_POWER:.0%} power; AdaCos: a = 1.41, b = 0, gamma = 1"
    )


def power_law_over(responses: Sequence[ClassResponse]) -> Any:
    """s*(C) = c (C - 1)^k over the interior vertices (``analysis.power_law``)."""
    from analysis.power_law import fit_power_law

    inside = [r for r in responses if r.interior]
    return fit_power_law(
        [r.num_classes for r in inside],
        [r.ci[0] for r in inside],
        [r.ci[1] for r in inside],
        [r.scale for r in inside],
    )


# --- cross-check: the kernel smoother ---------------------------------------------------------------


def _smooth(
    log_s: np.ndarray, values: np.ndarray, counts: np.ndarray, grid: np.ndarray, bandwidth: float
) -> np.ndarray:
    """Nadaraya-Watson curves on ``grid`` for each row of ``counts`` (trial multiplicities): (B, G)."""
    kernel = np.exp(-0.5 * ((grid[:, None] - log_s[None, :]) / bandwidth) ** 2)  # (G, n)
    return ((counts * values[None, :]) @ kernel.T) / np.maximum(counts @ kernel.T, 1e-300)


def smoother_optimum(
    group: pd.DataFrame,
    metric: str,
    mode: str,
    bandwidth: float,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Argmax of the kernel-smoothed curve of one C with a percentile bootstrap over trials."""
    log_s = np.log(group[SCALE].to_numpy(float))
    values = group[f"metric:{metric}"].to_numpy(float)
    sign = 1.0 if mode == "max" else -1.0
    grid = np.linspace(log_s.min(), log_s.max(), GRID_POINTS)
    n = len(log_s)
    s_star = float(
        np.exp(grid[np.argmax(sign * _smooth(log_s, values, np.ones((1, n)), grid, bandwidth)[0])])
    )
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    boot = np.exp(grid[np.argmax(sign * _smooth(log_s, values, counts, grid, bandwidth), axis=1)])
    return {
        "num_classes": int(group[CLASSES].iloc[0]),
        "scale": s_star,
        "ci_low": float(np.percentile(boot, 2.5)),
        "ci_high": float(np.percentile(boot, 97.5)),
        "at_edge": bool(
            np.ptp(log_s) > 0 and s_star in (float(np.exp(grid[0])), float(np.exp(grid[-1])))
        ),
    }


def scale_trend(
    trials: pd.DataFrame,
    metric: str = VAL_ACCURACY,
    mode: str = "max",
    *,
    experiment: str = "",
    bandwidth: float = BANDWIDTH,
    n_boot: int = N_BOOT,
    seed: int = 0,
    model: str = "auto",
) -> TrendResult:
    """Per-C response fits and, with >= 3 interior vertices, the law; never raises for too little data."""
    responses, excluded = class_responses(trials, metric, mode, model)
    kept, _ = scale_trials(trials, metric)
    rng = np.random.default_rng(seed)
    cross = [
        smoother_optimum(g, metric, mode, bandwidth, n_boot, rng)
        for _, g in kept.groupby(CLASSES, sort=True)
    ]
    if not responses:
        fit, message = (
            None,
            f"no finished trial of a scaled loss with a constant scale, a class count >= 3 and {metric} recorded",
        )
    else:
        fit, message = law_over(responses)
    return TrendResult(
        power_law=None if fit is None else power_law_over(responses),
        experiment=experiment,
        metric=metric,
        mode=mode,
        optima=responses,
        fit=fit,
        message=message,
        excluded=excluded,
        staged=is_staged(trials),
        cross_check=cross,
        bandwidth=bandwidth,
        n_boot=n_boot,
        seed=seed,
        model=model,
    )


__all__ = [
    "LawFit",
    "TrendResult",
    "fit_law",
    "law",
    "law_over",
    "power_law_over",
    "scale_trend",
    "scale_trials",
    "smoother_optimum",
]
