"""The split peak: an asymmetric peak whose vertex (and shape exponent) is profiled.

Model, with d = ln s - centre and one effect per seed block (the effects stand in for the intercept):

    y = block effect + k_below |d - v|^p [d < v] + k_above |d - v|^p [d >= v]

p = 2 is the split parabola; the main job's real peaks are sharper than that (p = 1.25 to 1.5
with 16 seeds, where the split parabola failed its lack-of-fit test at four of five class counts),
so ``fit_split`` can profile p over a grid of exponents too. Given v and p the model is linear,
so ordinary least squares fits the block effects and the two steepnesses at every v of a fine grid
across the scanned range and every p; RSS(v) is the smallest residual sum of squares over p at v,
v-hat minimises it (refined between the neighbours of the best grid point at its p). The 95%
interval of v inverts the profile F test: every v with

    (RSS(v) - RSS(v-hat)) / (RSS(v-hat) / (n - q)) <= F(0.95; 1, n - q)

where q = blocks + 3 counts the block effects, the two steepnesses and the vertex, plus 1 when p
is profiled. The interval is the connected stretch of such v around v-hat; an end that reaches an
end of the scanned range is returned as -inf / +inf (the data do not bound the vertex on that
side). The steepnesses' intervals are t intervals conditional on v-hat and p-hat. ``with_error``
recomputes both on another error variance (the lack-of-fit mean square, see analysis.response).

Unlike a polynomial, the model has a steepness of its own on each side of the optimum, so a peak
that is steep below and flat above does not pull the vertex towards the flat side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, stats

GRID_POINTS = 401
ALPHA = 0.05


@dataclass(frozen=True)
class SplitFit:
    vertex: float  # v-hat in d units (NaN: no residual degrees of freedom)
    at_edge: bool  # v-hat on an end of the scanned range (no interior minimum of RSS)
    ci: tuple[float, float]  # profile-F interval of v in d units (an end may be -inf / +inf)
    params: np.ndarray  # block effects, k_below, k_above at v-hat
    unscaled_cov: np.ndarray  # (X'X)^-1 at v-hat: their covariance per unit error variance
    ssr: float  # RSS(v-hat)
    df: int  # the error's degrees of freedom: n - q (see above; ``with_error`` may change it)
    grid: np.ndarray  # the profiled vertices
    profile: np.ndarray  # RSS on the grid (the smallest over the exponents at each vertex)
    exponent: float = 2.0  # the shape exponent at v-hat (2: the split parabola)
    cov: np.ndarray | None = None  # their covariance given v-hat, on the error variance


def design(
    d: np.ndarray, vertex: float, blocks: np.ndarray, n_blocks: int, exponent: float = 2.0
) -> np.ndarray:
    """Columns: one indicator per seed block, then |d - v|^exponent below v and above it."""
    onehot = np.zeros((len(d), n_blocks))
    onehot[np.arange(len(d)), blocks] = 1.0
    below, above = _sides(d - vertex, exponent)
    return np.column_stack([onehot, below, above])


def _sides(u: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """|u|^exponent below the vertex (u < 0) and above it, 0 on the other side."""
    power = np.abs(u) ** exponent
    return np.where(u < 0, power, 0.0), np.where(u >= 0, power, 0.0)


def _ssr(
    y: np.ndarray,
    d: np.ndarray,
    blocks: np.ndarray,
    n_blocks: int,
    vertices: np.ndarray,
    exponent: float = 2.0,
) -> np.ndarray:
    """RSS of the least-squares fit at each vertex, all at once: the block effects are projected out
    (Frisch-Waugh), leaving two columns per vertex; a side that holds no point drops out."""
    v = np.atleast_1d(np.asarray(vertices, dtype=float))[:, None]
    cols = np.stack(_sides(d[None, :] - v, exponent), axis=1)  # (G, 2, n)
    counts = np.maximum(np.bincount(blocks, minlength=n_blocks), 1)
    yc = y - (np.bincount(blocks, weights=y, minlength=n_blocks) / counts)[blocks]
    xc = cols - ((cols @ np.eye(n_blocks)[blocks]) / counts)[..., blocks]
    gram = np.einsum("gcn,gen->gce", xc, xc)  # (G, 2, 2)
    xty = np.einsum("gcn,n->gc", xc, yc)
    beta = np.einsum("gce,ge->gc", np.linalg.pinv(gram, hermitian=True), xty)
    return float(yc @ yc) - np.einsum("gc,gc->g", beta, xty)


def _edge(grid: np.ndarray, excess: np.ndarray, i: int, j: int) -> float:
    """Between grid[i] (inside: excess <= 0) and grid[j] (outside): where excess crosses 0."""
    frac = excess[i] / (excess[i] - excess[j])
    return float(grid[i] + frac * (grid[j] - grid[i]))


def _profile(
    y: np.ndarray,
    d: np.ndarray,
    blocks: np.ndarray,
    n_blocks: int,
    vertices: np.ndarray,
    exponents: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """The smallest RSS over ``exponents`` at each vertex, and the exponent that gives it."""
    table = np.stack([_ssr(y, d, blocks, n_blocks, vertices, e) for e in exponents])
    best = np.argmin(table, axis=0)
    return table[best, np.arange(table.shape[1])], np.asarray(exponents, dtype=float)[best]


def fit_split(
    y: np.ndarray,
    d: np.ndarray,
    blocks: np.ndarray,
    n_blocks: int,
    exponents: tuple[float, ...] = (2.0,),
) -> SplitFit:
    """Profile the vertex over [min d, max d] (and the shape exponent over ``exponents``; one
    exponent fixes it) and fit the split peak there (see the module docstring)."""
    # not statsmodels.api: that import takes seconds
    from statsmodels.regression.linear_model import OLS

    y, d = np.asarray(y, dtype=float), np.asarray(d, dtype=float)
    p = n_blocks + 3 + (len(exponents) > 1)
    df = len(y) - p
    grid = np.linspace(d.min(), d.max(), GRID_POINTS)
    profile, exponent_at = _profile(y, d, blocks, n_blocks, grid, exponents)
    best = int(np.argmin(profile))
    vertex, exponent = float(grid[best]), float(exponent_at[best])
    if 0 < best < len(grid) - 1:
        refined = optimize.minimize_scalar(
            lambda v: float(_ssr(y, d, blocks, n_blocks, np.array([v]), exponent)[0]),
            bounds=(grid[best - 1], grid[best + 1]),
            method="bounded",
            options={"xatol": 1e-6},
        )
        if refined.fun <= profile[best]:
            vertex = float(refined.x)
    x = design(d, vertex, blocks, n_blocks, exponent)
    result = OLS(y, x).fit()
    ssr = float(np.sum((y - x @ np.asarray(result.params)) ** 2))
    nan2 = (float("nan"), float("nan"))
    fit = SplitFit(
        vertex=vertex,
        at_edge=best in (0, len(grid) - 1),
        ci=nan2,
        params=np.asarray(result.params),
        unscaled_cov=np.asarray(result.cov_params(scale=1.0)),
        ssr=ssr,
        df=df,
        grid=grid,
        profile=profile,
        exponent=exponent,
    )
    if df <= 0:
        nan_cov = np.full((n_blocks + 2,) * 2, np.nan)
        return replace(fit, unscaled_cov=nan_cov, cov=nan_cov)
    return with_error(fit, ssr / df, df)


def with_error(fit: SplitFit, sigma2: float, df: int) -> SplitFit:
    """``fit`` with its interval and covariance on the error variance ``sigma2`` with ``df``
    degrees of freedom: the residual mean square (``fit_split``), or the lack-of-fit mean square
    where the curve lacks fit, so that the scale levels' deviations from the curve count as random
    (a random effect per level; exact for a balanced design, where the fit is one of level means)."""
    unscaled = fit.unscaled_cov
    if sigma2 <= 0:
        return replace(fit, ci=(fit.vertex, fit.vertex), cov=unscaled * sigma2, df=df)
    critical = float(stats.f.ppf(1 - ALPHA, 1, df))
    grid = fit.grid
    excess = (fit.profile - fit.ssr) / sigma2 - critical  # <= 0: v not rejected
    at = int(np.clip(np.searchsorted(grid, fit.vertex), 0, len(grid) - 1))
    if excess[at] > 0 and at > 0:
        at -= 1
    left = right = at
    while left > 0 and excess[left - 1] <= 0:
        left -= 1
    while right < len(grid) - 1 and excess[right + 1] <= 0:
        right += 1
    low = -np.inf if left == 0 else _edge(grid, excess, left, left - 1)
    high = np.inf if right == len(grid) - 1 else _edge(grid, excess, right, right + 1)
    ci = (min(low, fit.vertex), max(high, fit.vertex))
    return replace(fit, ci=ci, cov=unscaled * sigma2, df=df)


__all__ = ["SplitFit", "design", "fit_split", "with_error"]
