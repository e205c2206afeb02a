"""The other form of the trend: s*(C) = c (C - 1)^k, a straight line in ln s* against ln(C - 1).

AdaCos's law is straight in s* against ln(C - 1); when the optimum grows faster than that (the
vertices bend upwards on that axis, and the law's lack-of-fit test rejects it), a power of C - 1
may hold instead. Fitted like the law (``analysis.trends``): weighted least squares with the
per-C variances taken as known, here on ln s* with the sd of ln s* read from each vertex's 95%
interval, ln(high / low) / (2 z) (the vertex intervals come from a profile in ln s, so they are
about symmetric there); normal intervals on k and ln c, widened by sqrt(chi^2 / df) when the
vertices scatter more than their intervals allow; a chi-square lack-of-fit test against free per-C
vertices. Comparing the two forms' lack-of-fit p-values says which one the vertices follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from analysis.trends import MIN_CLASS_COUNTS, Z


@dataclass(frozen=True)
class PowerLawFit:
    """s*(C) = c (C - 1)^k with 95% z-intervals (known variances) and its lack of fit."""

    k: float  # the exponent
    k_ci: tuple[float, float]
    c: float  # s* at C = 2
    c_ci: tuple[float, float]
    chi2: float  # against free per-C vertices
    df: int
    lack_of_fit_p: float
    scale_factor: float  # sqrt(max(1, chi2 / df)): how much the intervals were widened
    n_points: int
    # num_classes, fit, low, high
    band: dict[str, list] = field(default_factory=dict, repr=False)

    @property
    def formula(self) -> str:
        return f"{self.c:.3g} (C - 1)^{self.k:.3g}"


def fit_power_law(
    num_classes: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    scales: Sequence[float],
) -> PowerLawFit:
    """WLS of ln s* on ln(C - 1), each vertex weighted by its 95% interval [low, high] in ln s."""
    from statsmodels.regression.linear_model import WLS

    c = np.asarray(num_classes, dtype=float)
    y = np.log(np.asarray(scales, dtype=float))
    sd = np.log(np.asarray(high, dtype=float) / np.asarray(low, dtype=float)) / (2 * Z)
    n = len(c)
    if len(np.unique(c)) < MIN_CLASS_COUNTS:
        raise ValueError(f"a power law with intervals needs >= {MIN_CLASS_COUNTS} class counts")
    if not (np.all(np.isfinite(sd)) and np.all(sd > 0)):
        raise ValueError("every vertex needs a finite interval of positive width")
    w = 1.0 / sd**2
    x = np.log(c - 1.0)
    res = WLS(y, np.column_stack([x, np.ones(n)]), weights=w).fit(cov_type="fixed scale")
    k, log_c = (float(v) for v in np.asarray(res.params))
    chi2 = float(np.sum(w * (y - k * x - log_c) ** 2))
    factor = float(np.sqrt(max(1.0, chi2 / (n - 2))))
    cov = np.asarray(res.cov_params()) * factor**2
    se = np.sqrt(np.diag(cov))
    grid = np.geomspace(max(3.0, c.min() / 1.3), c.max() * 1.3, 100)
    jac = np.column_stack([np.log(grid - 1.0), np.ones_like(grid)])
    centre = jac @ np.array([k, log_c])
    half = Z * np.sqrt(np.einsum("ij,jk,ik->i", jac, cov, jac))
    return PowerLawFit(
        k=k,
        k_ci=(k - Z * float(se[0]), k + Z * float(se[0])),
        c=float(np.exp(log_c)),
        c_ci=(float(np.exp(log_c - Z * se[1])), float(np.exp(log_c + Z * se[1]))),
        chi2=chi2,
        df=n - 2,
        lack_of_fit_p=float(stats.chi2.sf(chi2, n - 2)),
        scale_factor=factor,
        n_points=n,
        band={
            "num_classes": grid.tolist(),
            "fit": np.exp(centre).tolist(),
            "low": np.exp(centre - half).tolist(),
            "high": np.exp(centre + half).tolist(),
        },
    )


def power_law_line(fit: PowerLawFit) -> str:
    """One line for ``study trend``."""
    return (
        f"power law s*(C) = {fit.formula} (k in [{fit.k_ci[0]:.3g}, {fit.k_ci[1]:.3g}]); "
        f"vs free vertices chi2 = {fit.chi2:.3g} on {fit.df} df, p = {fit.lack_of_fit_p:.2g}"
        + (
            f" (intervals widened x{fit.scale_factor:.2f} for that scatter)"
            if fit.scale_factor > 1
            else ""
        )
    )


__all__ = ["PowerLawFit", "fit_power_law", "power_law_line"]
