"""The response curve metric-vs-ln(s) per class count C, and its vertex s*(C) with a 95% interval.

Which trials. Only trials that finished their whole budget (MLflow FINISHED, ``trial_status``
finished: never early-stopped ones, whose accuracy favours large scales), with a constant scale,
a loss that has one and a known C >= 3. In a staged study (trials tagged ``stage``) only the
estimation stage enters a curve; the screen only placed the window and is never fitted. Where a
scheduler stopped some of a class count's trials early, the ones left ran their whole budget
because their early accuracy was good: a selected sample, so that class count carries a warning.

Model. With d = ln s - centre (centre: the middle of the scanned ln s range) and one block per
seed (``train.seed`` with ``data.subset_seed``: the same seed at every scale of a C), ordinary
least squares (statsmodels); no seed term when there is one seed. The models (``MODELS``):

- "split" (the default, ``model="auto"``, with >= 7 scale levels; with 5 or 6 the default is
  "split-parabola"): the split peak of
  ``analysis.split_peak``, seed effects + k_below |d - v|^p below the vertex v + k_above |d - v|^p
  above it, with v profiled over the scanned range, the shape exponent p over 1 .. 3
  (``SPLIT_EXPONENTS``), and a profile-F interval;
- "split-parabola": the same with p = 2 (the default before 2026-12-02);
- "quadratic" and "cubic": ``metric ~ C(seed) + d + I(d**2) [+ I(d**3)]``;
- "lack-of-fit": the cubic only where the quadratic fails the lack-of-fit test.

Why the exponent: the real peaks are sharper than a parabola. With 16 seeds of the main job the
split parabola failed its lack-of-fit test at four of its five class counts (p = 8e-6 to 0.0045;
the level means lay above the curve at the top and in the tails, below it in between), and its
vertices moved by up to 0.21 ln units when the exponent was freed; with p profiled (p-hat 1.25 to
1.5) the tests gave p = 0.04 to 0.85, with intervals about as wide as the parabola's.
In ``study power`` with those peaks a's intervals cover in 95-97% of studies at 4 and 16 seeds on
kinked and smooth peaks, each C's vertex in 91-98% at 4 seeds; with 16 seeds on a smooth peak C =
153's vertex leans +0.06 ln units and its narrow interval covers in 81%.

Why a split peak: the accuracy peak is asymmetric (steep below the optimum, flat above).
A quadratic's vertex then lies towards the flat side by about 0.1 ln units per ln unit of window
half-width, and the cubic's still by about 0.1 ln units with the main job's +-1.5 window, while
the replicates' pure error cannot detect that asymmetry. In ``study power`` (200 simulated
studies of the cpu design, 3 seeds) the cubic's 95% vertex intervals covered the true optimum in
74-83% of studies on a kinked asymmetric peak and gamma's in 51%; the split parabola's vertex
intervals covered it in 93-97% on kinked, smooth and symmetric peaks (gamma 83-97%). The price
is precision: its intervals are wider (it spends the data on two curvatures), so the same design
detects the trend less often. With 3-4 levels only the quadratic is possible.
Lack of fit: an F test of the polynomial against the replicates' pure error, i.e. against the
model ``C(seed) + C(scale level)`` that gives every scanned scale its own mean (statsmodels'
``compare_f_test``, the test ``anova_lm`` prints); both the quadratic's and the chosen model's
p-values are reported.

Vertex. s* is where the fitted curve's slope f'(d) is zero on the peak side (the maximum, or the
minimum for a metric to minimise). Its 95% interval inverts the t test of f'(d) = 0: every d
whose slope is not significantly different from zero, in the connected stretch around the
vertex (Fieller's interval for the quadratic, the same test inversion for the cubic; a stretch
that reaches the cubic's inflection point, beyond which the curve bends the other way, counts as
unbounded). Unlike a delta-method interval it follows the curve: it
is wide on the flat side of an asymmetric peak, narrow on the steep side, and exact for normal
errors when the polynomial describes the curve. The sd that weighs s* in the law is the
interval's width in s over 2 x 1.96: the sd of a normal variable with an interval that wide, so
that the law, which treats the vertices as normal with known sd, keeps the t interval's extra
width for a residual variance estimated on few degrees of freedom.

Near the peak only. Far from the optimum accuracy levels off towards chance (1/C), which no
parabola follows; a window that reaches there pulls the vertex (in ``study power`` with the peaks
the main job measured, by -0.22 ln units at C = 257, where 95% intervals then held the truth in
about half the studies). So the split parabola is fitted on the connected stretch of scale levels
around the best one whose seed-averaged mean lies within ``LOCAL_SHARE`` (30%) of the depth from
the best mean down to chance (all levels when that leaves fewer than 5; a warning names the
levels used). Simulated, this kept every C's vertex coverage at 0.87-0.99. The split peak is
fitted on every level (``LOCAL_SHARES``): its exponent bends with the tails, and the restriction
cost it coverage on a smooth peak (C = 257 with 16 seeds: 64% near the peak, 83% on the window).

A split peak's vertex interval is the profile-F interval of ``analysis.split_peak`` (the
connected set of v around v-hat whose residual sum of squares the F test does not reject), and its
sd for the law follows the same convention: the interval's width in s over 2 x 1.96. Where a
split peak's lack-of-fit test gives p < ``LACK_OF_FIT_P`` (0.25, Bancroft's rule for pooling
a term into the error only when its test is far from significant), the F test and the curvatures'
t intervals take the lack-of-fit mean square, on its own degrees of freedom, as the error instead
of the residual mean square: the scale levels' means deviate from the curve by more than the
seeds' scatter explains, and those deviations, which every seed shares, are what the vertex's
uncertainty is made of (a random effect per scale level; for a balanced design this is the fit to
the level means with their own residual variance). Without it, many seeds make the pure error
small while the curve's misfit stays. In ``study power`` (the split parabola, the cpu design, the 4-seed run's peaks, 200
studies, AdaCos-size law) with 16 seeds on the smooth peak, the vertex intervals at C = 257 held
the truth in 54% of studies and a's in 81%; switching at p < 0.05 gave 77% and 89%, at p < 0.25
91% and 94% (every C 0.90-0.98 on both peak shapes at 4 and 16 seeds), for a's interval about 10%
wider at 4 seeds and 20-25% at 16.

No interior maximum (and no vertex for the law) when the curvature's 95% interval reaches 0 or
lies on the wrong side (quadratic: 2 b2; cubic: f'' at the vertex; split: either side's 2 k, the
weaker side's is reported, both in ``side_curvatures``), when the cubic has no stationary point,
when the vertex lies outside the scanned scales (split: on an end of them), or when its interval
is unbounded (split: reaches an end of the scanned scales).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.polynomial import Polynomial
from scipy import stats

from trainables.config import REPORT_ONLY_KEYS
from trainables.metric_names import VAL_ACCURACY
from trainables.schedules import adacos_fixed_scale

SCALE, CLASSES, STAGE = "param:scale.start", "param:data.num_classes", "tag:stage"
SEED_COLUMNS = ("param:train.seed", "param:data.subset_seed")  # together: one seed block
ESTIMATE_STAGE = "estimate"  # == search_spaces.scale_design.ESTIMATE
STOPPED_EARLY = "stopped_early"  # the trial_status of a trial a scheduler stopped (study.callbacks)
ALPHA = 0.05
Z = float(stats.norm.ppf(1 - ALPHA / 2))
MIN_LEVELS = 3  # a quadratic needs three scales
CUBIC_MIN_LEVELS = 5  # a cubic or a split peak with a lack-of-fit test of its own needs five
EXPONENT_MIN_LEVELS = 7  # the default fits the split peak's exponent with this many scale levels
CURVE_POINTS = 61
# Which curve: (scale levels, lack-of-fit p of the quadratic) -> the model fitted
MODELS = {
    # the default: see the module docstring
    "auto": lambda levels, lof: (
        "split"
        if levels >= EXPONENT_MIN_LEVELS
        else "split-parabola"
        if levels >= CUBIC_MIN_LEVELS
        else "quadratic"
    ),
    "lack-of-fit": lambda levels, lof: (
        "cubic" if levels >= CUBIC_MIN_LEVELS and lof < ALPHA else "quadratic"
    ),
    "quadratic": lambda levels, lof: "quadratic",
    "cubic": lambda levels, lof: "cubic" if levels >= CUBIC_MIN_LEVELS else "quadratic",
    "split": lambda levels, lof: "split" if levels >= CUBIC_MIN_LEVELS else "quadratic",
    "split-parabola": lambda levels, lof: (
        "split-parabola" if levels >= CUBIC_MIN_LEVELS else "quadratic"
    ),
}
# The split peaks' shape exponents (analysis.split_peak): "split" profiles the exponent p of
# |ln s - v|^p over 1 (a tent) .. 3 with the vertex; "split-parabola" fixes p = 2
SPLIT_EXPONENTS = {
    "split": tuple(float(e) for e in np.round(np.linspace(1.0, 3.0, 17), 3)),
    "split-parabola": (2.0,),
}
DEGREES = {2: "quadratic", 3: "cubic", 4: "quartic"}
POLYNOMIALS = {name: degree for degree, name in DEGREES.items()}
SEARCH_POINTS = (
    2001  # grid of the test inversion, over the scanned range and its width again each side
)
LEVEL_DIGITS = 6  # scales equal to this many decimals of ln s are one level
# the split parabola is fitted where the mean metric is within this share of the peak's depth above
# chance; the split peak, whose exponent bends with the tails, on every level (LOCAL_SHARES)
LOCAL_SHARE = 0.3
LOCAL_SHARES = {"split": 1.0, "split-parabola": LOCAL_SHARE}
# a split peak's intervals take the lack-of-fit mean square as the error below this p of its
# lack-of-fit test (Bancroft's rule: pool the misfit into the residual only when p > 0.25)
LACK_OF_FIT_P = 0.25


@dataclass(frozen=True)
class ClassResponse:
    """The fitted response curve of one class count and its vertex (NaN where there is none)."""

    num_classes: int
    trials: int
    seeds: list[str]  # seed blocks
    scale_levels: list[float]  # distinct scanned scales
    model: str  # "quadratic", "cubic", "split", or "" (not fitted)
    scale: float  # s*: the vertex, NaN when there is none
    ci: tuple[float, float]  # its 95% interval in s (an end may be inf)
    sd: float  # the interval's width / (2 x 1.96): the uncertainty the law weighs s* by
    lack_of_fit_p: float  # the quadratic against the replicates' pure error (NaN: no test possible)
    lack_of_fit_p_model: float  # the model used against the same pure error
    curvature: (
        float  # f'' in metric per ln-unit^2, at the vertex (at the centre when there is none)
    )
    curvature_ci: tuple[float, float]
    interior: bool  # the vertex enters the law
    reason: str  # why not interior ("" when it is)
    adacos_scale: float  # sqrt(2) ln(C - 1)
    best_scale: float  # the single best trial, for reference
    best_value: float
    best_run_id: str
    residual_sd: float  # sqrt of the fit's residual mean square
    warnings: list[str] = field(default_factory=list)
    points: dict[str, list] = field(default_factory=dict, repr=False)  # scale, value, seed, run_id
    # scale, value, low, high (seed average)
    curve: dict[str, list] = field(default_factory=dict, repr=False)
    # split models: side -> [2 k, low, high], k the metric lost 1 ln-unit from the vertex (f'' when
    # the exponent is 2)
    side_curvatures: dict[str, list[float]] = field(default_factory=dict)
    exponent: float = float("nan")  # split models: the shape exponent p of |ln s - v|^p

    @property
    def ci_low(self) -> float:
        return self.ci[0]

    @property
    def ci_high(self) -> float:
        return self.ci[1]


# --- which trials ---------------------------------------------------------------------------------


def _col(t: pd.DataFrame, name: str, default: Any) -> pd.Series:
    return t[name] if name in t else pd.Series(default, index=t.index)


def is_staged(trials: pd.DataFrame) -> bool:
    """Whether the study recorded stages (a ``stage`` tag on its trials)."""
    return STAGE in trials and trials[STAGE].notna().any()


def scale_trials(
    trials: pd.DataFrame, metric: str, statuses: Sequence[str] = ("finished",)
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The trials a response curve may use, and how many were left out and why (see the module docstring)."""
    from trainables.losses.registry import scaled_losses

    staged, scaled = is_staged(trials), scaled_losses()
    checks = [
        (
            f"not FINISHED or no {metric}",
            lambda t: (t["status"] == "FINISHED") & _col(t, f"metric:{metric}", np.nan).notna(),
        ),
        (
            "trial status not "
            + "/".join(statuses)
            + " (early-stopped trials never enter a curve)",
            lambda t: _col(t, "tag:trial_status", statuses[0]).isin(statuses),
        ),
        (
            "screen stage (it places the window; never fitted)",
            lambda t: (
                _col(t, STAGE, ESTIMATE_STAGE) == ESTIMATE_STAGE if staged else t["status"].notna()
            ),
        ),
        (
            "scale schedule is not constant",
            lambda t: _col(t, "param:scale.schedule", "constant") == "constant",
        ),
        (
            "output loss has no scale",
            lambda t: _col(t, "param:loss.output", scaled[0]).isin(scaled),
        ),
        (
            "no scale.start or data.num_classes",
            lambda t: _col(t, SCALE, np.nan).notna() & _col(t, CLASSES, np.nan).notna(),
        ),
        (
            "data.num_classes < 3 (0 = all: count not recorded)",
            lambda t: pd.to_numeric(_col(t, CLASSES, 0), errors="coerce") >= 3,
        ),
        (
            "scale.start not positive",
            lambda t: pd.to_numeric(_col(t, SCALE, np.nan), errors="coerce") > 0,
        ),
    ]
    excluded: dict[str, int] = {}
    kept = trials
    for reason, keep in checks:
        mask = keep(kept).fillna(False).astype(bool)
        if (~mask).any():
            excluded[reason] = int((~mask).sum())
        kept = kept[mask]
    return kept.reset_index(drop=True), excluded


def seed_blocks(group: pd.DataFrame) -> pd.Series | None:
    """One label per trial naming its seed block, or None when no seed was recorded."""
    present = [c for c in SEED_COLUMNS if c in group and group[c].notna().any()]
    if not present:
        return None
    return group[present].astype(str).agg("/".join, axis=1)


# --- the fit --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    degree: int
    params: np.ndarray
    cov: np.ndarray
    df: float
    ssr: float
    result: Any  # statsmodels RegressionResults


def _design(d: np.ndarray, blocks: np.ndarray, n_blocks: int, degree: int) -> np.ndarray:
    """Columns: one indicator per seed block (they stand in for the intercept), then d, d^2, ..."""
    onehot = np.zeros((len(d), n_blocks))
    onehot[np.arange(len(d)), blocks] = 1.0
    return np.column_stack([onehot] + [d**k for k in range(1, degree + 1)])


def _ols(y: np.ndarray, x: np.ndarray, degree: int) -> _Fit:
    # not statsmodels.api: that import takes seconds
    from statsmodels.regression.linear_model import OLS

    result = OLS(y, x).fit()
    cov = (
        np.asarray(result.cov_params())
        if result.df_resid > 0
        else np.full((x.shape[1],) * 2, np.nan)
    )
    return _Fit(
        degree, np.asarray(result.params), cov, float(result.df_resid), float(result.ssr), result
    )


def _lack_of_fit(model: _Fit, saturated: _Fit) -> float:
    """p of the F test of ``model`` against the pure-error model (NaN when either has no df to spare).

    statsmodels' ``compare_f_test``: the test ``anova_lm(model, saturated)`` prints, without its table.
    """
    if saturated.df <= 0 or model.df <= saturated.df or saturated.ssr <= 0:
        return float("nan")
    return float(saturated.result.compare_f_test(model.result)[1])


def _slope_rows(x: np.ndarray, n_blocks: int, degree: int) -> np.ndarray:
    """Contrast rows c(x) with c(x) beta = f'(x)."""
    rows = np.zeros((len(x), n_blocks + degree))
    for k in range(1, degree + 1):
        rows[:, n_blocks + k - 1] = k * x ** (k - 1)
    return rows


def _curvature_row(x: float, n_blocks: int, degree: int) -> np.ndarray:
    """c with c beta = f''(x)."""
    row = np.zeros(n_blocks + degree)
    for k in range(2, degree + 1):
        row[n_blocks + k - 1] = k * (k - 1) * x ** (k - 2)
    return row


def _stationary(poly: np.ndarray, sign: float, region: tuple[float, float]) -> float:
    """The peak-side stationary point of f(d) = sum poly[k-1] d^k: the highest in ``region`` (the scanned
    range), else the one nearest to it; NaN when the curve has none."""
    f = Polynomial(np.concatenate([[0.0], poly]))
    roots = f.deriv().roots()
    roots = roots[np.abs(roots.imag) < 1e-9].real
    peaks = [r for r in roots if sign * f.deriv(2)(r) < 0]
    inside = [r for r in peaks if region[0] <= r <= region[1]]
    if inside:
        return float(max(inside, key=lambda r: sign * f(r)))
    return (
        float(min(peaks, key=lambda r: abs(r - 0.5 * (region[0] + region[1]))))
        if peaks
        else float("nan")
    )


def _inflections(poly: np.ndarray) -> np.ndarray:
    """Real points where the fitted curve changes from concave to convex."""
    roots = (
        Polynomial(np.concatenate([[0.0], poly])).deriv(2).roots()
        if len(poly) > 2
        else np.array([])
    )
    return roots[np.abs(roots.imag) < 1e-9].real


def _vertex_interval(
    fit: _Fit, n_blocks: int, vertex: float, span: tuple[float, float], t: float
) -> tuple[float, float]:
    """The stretch of d around ``vertex`` where H0: f'(d) = 0 is not rejected (inf: unbounded)."""
    lo, hi = span
    width = max(hi - lo, 1.0)
    grid = np.linspace(lo - width, hi + width, SEARCH_POINTS)
    stop_low, stop_high = grid[0], grid[-1]
    # stay on the concave (or convex, for min) side
    for inflection in _inflections(fit.params[n_blocks:]):
        if inflection > vertex:
            stop_high = min(stop_high, inflection)
        else:
            stop_low = max(stop_low, inflection)
    rows = _slope_rows(grid, n_blocks, fit.degree)
    slope = rows @ fit.params
    var = np.einsum("ij,jk,ik->i", rows, fit.cov, rows)
    excess = slope**2 - t**2 * var  # <= 0: not rejected
    inside = (excess <= 0) & (grid >= stop_low) & (grid <= stop_high)
    at = int(np.clip(np.searchsorted(grid, vertex), 1, len(grid) - 1))
    at = at if inside[at] else at - 1
    if not inside[at]:
        return float(vertex), float(vertex)
    left = at
    while left > 0 and inside[left - 1]:
        left -= 1
    right = at
    while right < len(grid) - 1 and inside[right + 1]:
        right += 1

    def edge(i: int, j: int) -> float:  # i inside, j outside: interpolate where excess = 0
        if not (0 <= j < len(grid)) or grid[j] < stop_low or grid[j] > stop_high:
            # the slope never became significant on this side
            return float("inf") * (1 if j > i else -1)
        frac = excess[i] / (excess[i] - excess[j])
        return float(grid[i] + frac * (grid[j] - grid[i]))

    return edge(left, left - 1), edge(right, right + 1)


def local_levels(
    y: np.ndarray, level_idx: np.ndarray, n_levels: int, floor: float, share: float
) -> np.ndarray:
    """Which scale levels a split peak is fitted on: the connected stretch around the best
    level whose mean stays within ``share`` of the depth from the best mean down to ``floor``
    (chance, 1/C); all levels when that leaves fewer than ``CUBIC_MIN_LEVELS``."""
    means = np.bincount(level_idx, weights=y, minlength=n_levels) / np.maximum(
        np.bincount(level_idx, minlength=n_levels), 1
    )
    best = int(np.argmax(means))
    near = means >= means[best] - share * max(means[best] - floor, 0.0)
    low = high = best
    while low > 0 and near[low - 1]:
        low -= 1
    while high < n_levels - 1 and near[high + 1]:
        high += 1
    keep = np.zeros(n_levels, dtype=bool)
    keep[low : high + 1] = True
    return keep if keep.sum() >= CUBIC_MIN_LEVELS else np.ones(n_levels, dtype=bool)


def fit_response(
    scales: Sequence[float],
    values: Sequence[float],
    seeds: Sequence[Any] | None = None,
    *,
    num_classes: int = 0,
    mode: str = "max",
    run_ids: Sequence[str] | None = None,
    warnings: Sequence[str] = (),
    curve: bool = True,
    model: str = "auto",
    local_share: float | None = None,
) -> ClassResponse:
    """Fit one class count's response curve (see the module docstring); never raises for thin data."""
    if model not in MODELS:
        raise ValueError(f"model {model!r}: expected one of {', '.join(MODELS)}")
    s = np.asarray(scales, dtype=float)
    y = np.asarray(values, dtype=float)
    n = len(s)
    sign = 1.0 if mode == "max" else -1.0
    notes = list(warnings)
    labels = np.asarray(["0"] * n if seeds is None else [str(v) for v in seeds])
    seed_names, blocks = np.unique(labels, return_inverse=True)
    if seeds is None:
        notes.append("no seed recorded: no seed blocks")
    elif len(seed_names) == 1:
        notes.append("one seed: no seed blocks, no replicates")
    log_s = np.log(s)
    level_keys, level_idx = np.unique(np.round(log_s, LEVEL_DIGITS), return_inverse=True)
    levels = np.exp(level_keys)
    best = int(np.argmax(sign * y)) if n else 0
    adacos = adacos_fixed_scale(num_classes) if num_classes >= 3 else float("nan")
    base = dict(
        num_classes=int(num_classes),
        trials=n,
        seeds=[str(v) for v in seed_names],
        scale_levels=[float(v) for v in levels],
        adacos_scale=adacos,
        best_scale=float(s[best]) if n else float("nan"),
        best_value=float(y[best]) if n else float("nan"),
        best_run_id=str(run_ids[best]) if n and run_ids is not None else "",
        points={
            "scale": s.tolist(),
            "value": y.tolist(),
            "seed": labels.tolist(),
            "run_id": [str(r) for r in run_ids] if run_ids is not None else [""] * n,
        },
    )
    nan2 = (float("nan"), float("nan"))
    blank = dict(
        model="",
        scale=float("nan"),
        ci=nan2,
        sd=float("nan"),
        lack_of_fit_p=float("nan"),
        lack_of_fit_p_model=float("nan"),
        curvature=float("nan"),
        curvature_ci=nan2,
        residual_sd=float("nan"),
    )
    if len(levels) < MIN_LEVELS:
        notes.append(f"fewer than {MIN_LEVELS} scale levels")
        return ClassResponse(
            **base,
            **blank,
            interior=False,
            reason=f"{len(levels)} scale level(s): a curve needs >= {MIN_LEVELS}",
            warnings=notes,
        )
    centre = 0.5 * (log_s.min() + log_s.max())
    d = log_s - centre
    k = len(seed_names)
    quad = _ols(y, _design(d, blocks, k, 2), 2)
    level_design = np.column_stack(
        [_design(d, blocks, k, 0), np.eye(len(levels))[level_idx][:, 1:]]
    )
    saturated = _ols(y, level_design, 0)
    if saturated.df <= 0:
        notes.append("no replicated scale levels: no lack-of-fit test")
    lof_quad = _lack_of_fit(quad, saturated)
    fit, lof = quad, lof_quad
    chosen = MODELS[model](len(levels), lof_quad)
    if chosen in SPLIT_EXPONENTS:  # the models that are not polynomials
        keep = np.ones(len(levels), dtype=bool)
        local_share = LOCAL_SHARES[chosen] if local_share is None else local_share
        if sign > 0 and num_classes >= 3 and local_share < 1:
            keep = local_levels(y, level_idx, len(levels), 1.0 / num_classes, local_share)
        if not keep.all():
            notes.append(
                f"fitted on the {int(keep.sum())} of {len(levels)} scale levels s = {levels[keep][0]:.3g} .. "
                f"{levels[keep][-1]:.3g} within {local_share:.0%} of the peak's depth above chance"
            )
            rows = keep[level_idx]
            sub_idx = np.unique(level_idx[rows], return_inverse=True)[1]
            y, d, blocks, levels = y[rows], d[rows], blocks[rows], levels[keep]
            saturated = _ols(
                y,
                np.column_stack([_design(d, blocks, k, 0), np.eye(len(levels))[sub_idx][:, 1:]]),
                0,
            )
        return _split_response(
            y,
            d,
            blocks,
            k,
            centre,
            sign,
            levels,
            saturated,
            lof_quad,
            base,
            blank,
            notes,
            curve,
            chosen,
        )
    degree = POLYNOMIALS[chosen]
    higher = _ols(y, _design(d, blocks, k, degree), degree) if degree > 2 else None
    if higher is not None and higher.df >= 1:
        fit = higher
        lof = _lack_of_fit(fit, saturated)
        if lof < ALPHA:
            notes.append(
                f"the {DEGREES[degree]} lacks fit too (p = {lof:.2g}): the vertex may be biased"
            )
    elif lof_quad < ALPHA:
        notes.append(
            f"the quadratic lacks fit (p = {lof_quad:.2g})"
            + (
                ""
                if len(levels) >= CUBIC_MIN_LEVELS
                else f" and {len(levels)} levels are too few for a cubic"
            )
            + ": the vertex may be biased"
        )
    elif len(levels) < CUBIC_MIN_LEVELS:
        notes.append(
            f"{len(levels)} scale levels: a quadratic, which assumes a symmetric peak (its vertex is biased "
            "towards the flat side of an asymmetric one)"
        )
    poly = fit.params[k:]
    resid_sd = float(np.sqrt(fit.ssr / fit.df)) if fit.df > 0 else float("nan")
    common = dict(
        model=DEGREES[fit.degree],
        lack_of_fit_p=lof_quad,
        lack_of_fit_p_model=lof,
        residual_sd=resid_sd,
    )
    if fit.df <= 0:
        return ClassResponse(
            **base,
            **{**blank, **common},
            interior=False,
            reason="no residual degrees of freedom: no intervals",
            warnings=notes,
            curve=_curve(fit, k, d, centre, float("nan")) if curve else {},
        )
    t = float(stats.t.ppf(1 - ALPHA / 2, fit.df))
    span = (float(d.min()), float(d.max()))
    vertex = _stationary(poly, sign, span)
    at = vertex if np.isfinite(vertex) else 0.0
    row = _curvature_row(at, k, fit.degree)
    curvature = float(row @ fit.params)
    half = t * float(np.sqrt(row @ fit.cov @ row))
    curvature_ci = (curvature - half, curvature + half)
    reason = ""
    ci_d = nan2
    if not np.isfinite(vertex):
        reason = "the fitted curve has no " + ("maximum" if sign > 0 else "minimum")
    else:
        ci_d = _vertex_interval(fit, k, vertex, span, t)
        if sign * curvature_ci[1 if sign > 0 else 0] >= 0:
            reason = (
                f"curvature's 95% interval [{curvature_ci[0]:.3g}, {curvature_ci[1]:.3g}] reaches 0: no interior "
                + ("maximum" if sign > 0 else "minimum")
            )
        elif not span[0] <= vertex <= span[1]:
            reason = f"vertex s = {np.exp(vertex + centre):.3g} outside the scanned scales [{levels[0]:.3g}, {levels[-1]:.3g}]"
        elif not np.all(np.isfinite(ci_d)):
            reason = "the vertex's 95% interval is unbounded"
    scale = float(np.exp(vertex + centre)) if np.isfinite(vertex) else float("nan")
    ci = (float(np.exp(ci_d[0] + centre)), float(np.exp(ci_d[1] + centre)))
    sd = float((ci[1] - ci[0]) / (2 * Z)) if np.all(np.isfinite(ci)) else float("nan")
    if not reason and (
        vertex - span[0] < 0.15 * (span[1] - span[0])
        or span[1] - vertex < 0.15 * (span[1] - span[0])
    ):
        notes.append("vertex near an edge of the scanned scales: widen or move the window")
    return ClassResponse(
        **base,
        **common,
        scale=scale,
        ci=ci,
        sd=sd,
        curvature=curvature,
        curvature_ci=curvature_ci,
        interior=not reason,
        reason=reason,
        warnings=notes,
        curve=_curve(fit, k, d, centre, t) if curve else {},
    )


def _curve(fit: _Fit, n_blocks: int, d: np.ndarray, centre: float, t: float) -> dict[str, list]:
    """The seed-averaged fitted curve and its pointwise 95% band on a grid over the scanned range."""
    grid = np.linspace(d.min(), d.max(), CURVE_POINTS)
    rows = _design(grid, np.zeros(len(grid), dtype=int), n_blocks, fit.degree)
    rows[:, :n_blocks] = 1.0 / n_blocks
    value = rows @ fit.params
    half = (
        t * np.sqrt(np.einsum("ij,jk,ik->i", rows, fit.cov, rows))
        if np.isfinite(t)
        else np.full(len(grid), np.nan)
    )
    return {
        "scale": np.exp(grid + centre).tolist(),
        "value": value.tolist(),
        "low": (value - half).tolist(),
        "high": (value + half).tolist(),
    }


def _split_response(
    y: np.ndarray,
    d: np.ndarray,
    blocks: np.ndarray,
    k: int,
    centre: float,
    sign: float,
    levels: np.ndarray,
    saturated: _Fit,
    lof_quad: float,
    base: dict,
    blank: dict,
    notes: list[str],
    curve: bool,
    model: str,
) -> ClassResponse:
    """A split peak's response (``analysis.split_peak``): a steepness of its own on each side of
    the vertex, and the shape exponent ``SPLIT_EXPONENTS[model]`` (profiled when there are several)."""
    from analysis.split_peak import design, fit_split, with_error

    fit = fit_split(y, d, blocks, k, SPLIT_EXPONENTS[model])
    lof = float("nan")
    resid_sd = float(np.sqrt(fit.ssr / fit.df)) if fit.df > 0 else float("nan")
    if saturated.df > 0 and saturated.ssr > 0 and fit.df > saturated.df:
        lof_df = int(fit.df - saturated.df)
        lof_ms = (fit.ssr - saturated.ssr) / lof_df
        lof = float(stats.f.sf(lof_ms / (saturated.ssr / saturated.df), lof_df, saturated.df))
        if lof < LACK_OF_FIT_P:
            fit = with_error(fit, lof_ms, lof_df)
            notes.append(
                f"the split peak's lack-of-fit test gives p = {lof:.2g} (< {LACK_OF_FIT_P}): its "
                f"intervals take the lack-of-fit mean square on {lof_df} df as the error (the scale "
                "levels' deviations from the curve count as random)"
                + ("; it lacks fit: the vertex may be biased" if lof < ALPHA else "")
            )
    common = dict(
        model=model,
        lack_of_fit_p=lof_quad,
        lack_of_fit_p_model=lof,
        residual_sd=resid_sd,
        exponent=fit.exponent,
    )
    if fit.df <= 0:
        return ClassResponse(
            **base,
            **{**blank, **common},
            interior=False,
            reason="no residual degrees of freedom: no intervals",
            warnings=notes,
        )
    t = float(stats.t.ppf(1 - ALPHA / 2, fit.df))
    sides = {}
    for side, column in (("below", k), ("above", k + 1)):
        value, half = 2 * fit.params[column], 2 * t * float(np.sqrt(fit.cov[column, column]))
        sides[side] = [float(value), float(value - half), float(value + half)]
    # the side nearest to no peak
    weak = max(sides, key=lambda side: sign * sides[side][2 if sign > 0 else 1])
    curvature, curvature_ci = sides[weak][0], (sides[weak][1], sides[weak][2])
    peak = "maximum" if sign > 0 else "minimum"
    reason = ""
    if sign * curvature_ci[1 if sign > 0 else 0] >= 0:
        reason = (
            f"curvature's 95% interval [{curvature_ci[0]:.3g}, {curvature_ci[1]:.3g}] {weak} the vertex reaches 0: "
            f"no interior {peak}"
        )
    elif fit.at_edge:
        reason = f"vertex s = {np.exp(fit.vertex + centre):.3g} at an edge of the scanned scales [{levels[0]:.3g}, {levels[-1]:.3g}]"
    elif not np.all(np.isfinite(fit.ci)):
        reason = "the vertex's 95% interval reaches an end of the scanned scales (unbounded)"
    ci = (float(np.exp(fit.ci[0] + centre)), float(np.exp(fit.ci[1] + centre)))
    sd = float((ci[1] - ci[0]) / (2 * Z)) if np.all(np.isfinite(ci)) else float("nan")
    span = (float(d.min()), float(d.max()))
    if not reason and min(fit.vertex - span[0], span[1] - fit.vertex) < 0.15 * (span[1] - span[0]):
        notes.append("vertex near an edge of the scanned scales: widen or move the window")
    band = {}
    if curve:
        grid = np.linspace(span[0], span[1], CURVE_POINTS)
        rows = design(grid, fit.vertex, np.zeros(len(grid), dtype=int), k, fit.exponent)
        rows[:, :k] = 1.0 / k
        value = rows @ fit.params
        half = t * np.sqrt(np.einsum("ij,jk,ik->i", rows, fit.cov, rows))
        band = {
            "scale": np.exp(grid + centre).tolist(),
            "value": value.tolist(),
            "low": (value - half).tolist(),
            "high": (value + half).tolist(),
        }
    return ClassResponse(
        **base,
        **common,
        scale=float(np.exp(fit.vertex + centre)),
        ci=ci,
        sd=sd,
        curvature=curvature,
        curvature_ci=curvature_ci,
        interior=not reason,
        reason=reason,
        warnings=notes,
        curve=band,
        side_curvatures=sides,
    )


# --- a study ---------------------------------------------------------------------------------------


def _is_grid(levels: np.ndarray, counts: np.ndarray) -> bool:
    """Scales that look designed: replicated levels, or evenly spaced in ln s or in s."""
    if len(levels) < 3 or np.median(counts) >= 2:
        return True
    for x in (np.log(levels), levels):
        steps = np.diff(np.sort(x))
        if np.ptp(steps) <= 0.02 * np.mean(steps):
            return True
    return False


def _group_warnings(group: pd.DataFrame, staged: bool) -> list[str]:
    notes = []
    levels, counts = np.unique(
        np.round(np.log(group[SCALE].to_numpy(float)), LEVEL_DIGITS), return_counts=True
    )
    if not staged and not _is_grid(np.exp(levels), counts):
        notes.append(
            "adaptive sampler: scales were not designed (no stages, not a grid); the curve may be thin where the sampler did not look"
        )
    blocks = seed_blocks(group)
    if blocks is not None and blocks.nunique() > 1:
        cells = pd.crosstab(blocks, np.round(np.log(group[SCALE].to_numpy(float)), LEVEL_DIGITS))
        if (cells == 0).any().any():
            notes.append("unbalanced: not every seed ran at every scale")
    skip = {SCALE, CLASSES, *SEED_COLUMNS, *(f"param:{key}" for key in REPORT_ONLY_KEYS)}
    varied = [
        c[len("param:") :]
        for c in group
        if c.startswith("param:")
        and c not in skip
        and group[c].astype(str).nunique(dropna=False) > 1
    ]
    if varied:
        notes.append(
            "also varied within this C: "
            + ", ".join(sorted(varied))
            + " (the curve averages over them)"
        )
    return notes


def early_stopped(trials: pd.DataFrame, metric: str) -> pd.Series:
    """Per class count, how many trials a curve could have used but a scheduler stopped early."""
    pool, _ = scale_trials(trials, metric, statuses=("finished", STOPPED_EARLY))
    stopped = pool[_col(pool, "tag:trial_status", "finished") == STOPPED_EARLY]
    return stopped.groupby(CLASSES).size()


def _stopped_warning(stopped: int, kept: int) -> list[str]:
    if not stopped:
        return []
    return [
        f"{stopped} of the {stopped + kept} trials at this class count were stopped early by the "
        f"scheduler and left out: the {kept} that ran their whole budget survived a selection on their "
        "early accuracy (which favours some scales, e.g. large ones), so the curve and its vertex may "
        "be biased; run this design without one (`--scheduler none`)"
    ]


def class_responses(
    trials: pd.DataFrame, metric: str = VAL_ACCURACY, mode: str = "max", model: str = "auto"
) -> tuple[list[ClassResponse], dict[str, int]]:
    """One fitted response per class count of a study's trials, and the trials left out (reason -> count).

    A class count some of whose trials a scheduler stopped early gets a warning: the trials that
    remain were selected on their early accuracy."""
    kept, excluded = scale_trials(trials, metric)
    staged = is_staged(trials)
    stopped = early_stopped(trials, metric)
    out = []
    for c, group in kept.groupby(CLASSES, sort=True):
        blocks = seed_blocks(group)
        out.append(
            fit_response(
                group[SCALE].to_numpy(float),
                group[f"metric:{metric}"].to_numpy(float),
                None if blocks is None else blocks.tolist(),
                num_classes=int(c),
                mode=mode,
                run_ids=group["run_id"].astype(str).tolist(),
                warnings=_group_warnings(group, staged)
                + _stopped_warning(int(stopped.get(c, 0)), len(group)),
                model=model,
            )
        )
    return out, excluded


__all__ = [
    "ClassResponse",
    "class_responses",
    "early_stopped",
    "fit_response",
    "is_staged",
    "scale_trials",
    "seed_blocks",
]
