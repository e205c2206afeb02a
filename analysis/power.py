"""``study power``: simulate a scale design against a known law and run the real estimator on it.

Truth. s*(C) = a ln(C - 1) + b, or the power law c (C - 1)^k (``power_law``). At each C the metric (accuracy) against u = ln s - ln s*(C) is a
peak that is steep below the optimum and flatter above it:

    acc(u) = top - x / (1 + (x / (top - 1/C))^4)^(1/4),   x = k |u|^p,
    k = curvature (u < 0), curvature * asymmetry (u > 0)

so it falls as k |u|^p (``curvature``: accuracy lost 1 ln unit below the optimum, per
ln-unit^2 when the shape ``exponent`` p is 2; the main job's real peaks have p of about 1.25 to
1.5) until it nears chance, 1/C, where it levels off (a soft minimum of the drop and the depth to
chance, ``LEVEL_SHARPNESS`` = 4: 1.5% short of k |u|^p where the drop is half the depth, 5%
where it is 70%). The real peaks follow k |u|^p across their windows (the split peak's
lack-of-fit tests pass there), so the levelling must not bend the curve inside a window: the
earlier x / (1 + x / depth) did, and made the simulated vertex at C = 257 more than twice as wide
as the real runs' (docs/main-job.md). ``shape`` says how k passes from one side to the other:
"kink" switches at the optimum (a corner in the curvature, the split peak's own shape), "smooth"
blends the two with a logistic in u of width ``smooth_width`` ln units,
k(u) = curvature (1 + (asymmetry - 1) / (1 + exp(-u / smooth_width))), so the peak is smooth with no
corner; its maximum stays at u = 0 (k(u) u^2 grows on both sides for asymmetries between about 0.25 and 4).
Two shapes keep an estimator from being chosen only because it matches the simulation's own.
A trial's accuracy adds its seed block's effect (normal, sd ``seed_effect``, the same at every
scale of that C and seed), training noise (normal, sd ``train_noise``), then binomial validation
noise on n = ``val_per_class`` x C images (``val_per_class`` one value or one per C).

Design. Exactly the preset's: the screen (``design.screen_scales``, one seed) is simulated, the
window is placed by ``search_spaces.scale_design.screen_centre`` on the simulated screen and laid
out by ``design.window``, every window scale runs on every seed, and the estimation-stage values go
through ``analysis.response.fit_response`` and ``analysis.trends.law_over``, the same code that
``study trend`` runs on a store. The screen trains a fraction of the budget; ``screen_shift``
(ln units) moves its peak to model low fidelity favouring larger scales (0: none).

Reported: the power to detect a > 0 (a's lower 95% bound above 0), the coverage of a's, b's and
gamma's 95% intervals, the median width of a's interval, how often the law could be fitted and
rejected its own lack-of-fit test, and per C the share of interior vertices, the coverage of the
vertex intervals and the accuracy range the design produces.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from analysis.response import fit_response
from analysis.trends import SQRT2, law_over, power_law_over
from search_spaces.scale_design import ScaleDesign, screen_centre

# How the curvature passes from the steep side (u < 0) to the flat side: u, asymmetry, width -> k(u) / curvature
SHAPES = {
    "kink": lambda u, asymmetry, width: np.where(u < 0, 1.0, asymmetry),
    "smooth": lambda u, asymmetry, width: 1.0 + (asymmetry - 1.0) / (1.0 + np.exp(-u / width)),
}


LEVEL_SHARPNESS = 4.0  # how abruptly the peak levels off near chance (see the module docstring)

# Truth fields given once or per class count
PER_CLASS = ("top", "curvature", "asymmetry", "train_noise", "exponent", "val_per_class")


@dataclass(frozen=True)
class Truth:
    """The simulated world (see the module docstring)."""

    a: float = SQRT2
    b: float = 0.0
    # accuracy per ln-unit^2 on the steep (low-s) side, one or one per C
    curvature: tuple[float, ...] = (0.05,)
    # flat-side curvature / steep-side curvature, one or one per C
    asymmetry: tuple[float, ...] = (0.5,)
    # p of k |u|^p near the top, one or one per C (2: parabolic)
    exponent: tuple[float, ...] = (2.0,)
    top: tuple[float, ...] = (0.9,)  # accuracy at s*, one value or one per class count
    # sd between seeds' trials at one scale (accuracy, not points), one or one per C
    train_noise: tuple[float, ...] = (0.01,)
    seed_effect: float = 0.01  # sd of a seed block's shift
    val_per_class: tuple[float, ...] = (25,)  # validation images per class, one or one per C
    screen_shift: float = 0.0  # ln units the screen's peak sits above the truth
    shape: str = (
        "kink"  # SHAPES: how the curvature passes from one side of the optimum to the other
    )
    smooth_width: float = 0.5  # ln units of the logistic blend of the "smooth" shape
    # (c, k): the truth is the power law s*(C) = c (C - 1)^k instead of a ln(C - 1) + b; () = not
    power_law: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in PER_CLASS:  # a single number means the same at every class count
            object.__setattr__(
                self, name, tuple(float(v) for v in np.atleast_1d(getattr(self, name)))
            )
        if self.shape not in SHAPES:
            raise ValueError(f"shape {self.shape!r}: expected one of {', '.join(SHAPES)}")

    def optimum(self, c: np.ndarray) -> np.ndarray:
        if self.power_law:
            scale, k = self.power_law
            return scale * (np.asarray(c, dtype=float) - 1.0) ** k
        return self.a * np.log(np.asarray(c, dtype=float) - 1.0) + self.b

    def per_class(self, name: str, index: int, count: int) -> float:
        """Field ``name`` (one of PER_CLASS) at the ``index``-th of ``count`` class counts."""
        values = getattr(self, name)
        if len(values) not in (1, count):
            raise ValueError(
                f"{name}: give one value or {count} (one per class count), got {len(values)}"
            )
        return float(values[0] if len(values) == 1 else values[index])

    def top_at(self, index: int, count: int) -> float:
        return self.per_class("top", index, count)

    def accuracy(
        self,
        scales: np.ndarray,
        c: int,
        top: float,
        shift: float = 0.0,
        curvature: float | None = None,
        asymmetry: float | None = None,
        exponent: float | None = None,
    ) -> np.ndarray:
        u = np.log(scales) - np.log(self.optimum(c)) - shift
        k = (self.curvature[0] if curvature is None else curvature) * SHAPES[self.shape](
            u, self.asymmetry[0] if asymmetry is None else asymmetry, self.smooth_width
        )
        power = np.abs(u) ** (self.exponent[0] if exponent is None else exponent)
        depth = max(top - 1.0 / c, 1e-9)
        drop = k * power
        return top - drop / (1.0 + (drop / depth) ** LEVEL_SHARPNESS) ** (1.0 / LEVEL_SHARPNESS)


@dataclass
class PowerResult:
    design: dict[str, Any]
    truth: dict[str, Any]
    model: str  # analysis.response.MODELS
    studies: int
    seed: int
    law_fitted: float  # share of studies with >= 3 interior vertices
    power: float  # share of all studies where a's lower 95% bound > 0
    coverage_a: float  # among fitted studies
    coverage_b: float
    coverage_gamma: float | None  # None when b != 0 (gamma is not constant then)
    median_width_a: float
    # its 95% Monte-Carlo interval (order statistics: scipy.stats.quantile_test)
    median_width_a_interval: tuple[float, float]
    median_a: float
    median_gamma: float
    law_rejected: float  # share of fitted studies whose law lack-of-fit p < 0.05
    power_law_rejected: float  # the same for the power law c (C - 1)^k
    # with a power-law truth: the coverage of k's 95% interval, its median width and estimate
    coverage_k: float | None = None
    median_width_k: float | None = None
    median_k: float | None = None
    per_class: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _observe(
    rng: np.random.Generator, truth: np.ndarray, shifts: np.ndarray, noise: float, n_val: int
) -> np.ndarray:
    """Trial accuracies: truth + seed shift + training noise, then binomial validation noise."""
    p = np.clip(truth + shifts + rng.normal(0.0, noise, truth.shape), 0.0, 1.0)
    return rng.binomial(n_val, p) / n_val


def simulate(
    design: ScaleDesign,
    truth: Truth,
    studies: int = 200,
    seed: int = 0,
    mode: str = "max",
    model: str = "auto",
) -> PowerResult:
    """Run ``studies`` simulated studies of ``design`` under ``truth`` through the real estimator."""
    import time

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    counts = design.class_counts
    n_c = len(counts)
    screen = np.asarray(design.screen_scales, dtype=float)
    n_seeds = len(design.seeds)
    per_c: list[dict[str, list]] = [
        {
            "interior": [],
            "covered": [],
            "width": [],
            "error": [],
            "low": [],
            "high": [],
            "window": [],
        }
        for _ in counts
    ]
    a_hat, a_ci, b_ci, g_hat, g_ci, lof = [], [], [], [], [], []
    k_hat, k_ci, power_lof = [], [], []
    for _ in range(studies):
        responses = []
        for i, c in enumerate(counts):
            top = truth.top_at(i, n_c)
            k_c, noise_c = (
                truth.per_class("curvature", i, n_c),
                truth.per_class("train_noise", i, n_c),
            )
            asym_c = truth.per_class("asymmetry", i, n_c)
            exp_c = truth.per_class("exponent", i, n_c)
            n_val = int(truth.per_class("val_per_class", i, n_c) * c)
            screened = _observe(
                rng,
                truth.accuracy(screen, c, top, truth.screen_shift, k_c, asym_c, exp_c),
                rng.normal(0.0, truth.seed_effect),
                noise_c,
                n_val,
            )
            window = np.asarray(design.window(screen_centre(screen, screened, mode)), dtype=float)
            scales = np.tile(window, n_seeds)
            blocks = np.repeat(np.arange(n_seeds), len(window))
            true_acc = truth.accuracy(
                scales, c, top, curvature=k_c, asymmetry=asym_c, exponent=exp_c
            )
            values = _observe(
                rng, true_acc, rng.normal(0.0, truth.seed_effect, n_seeds)[blocks], noise_c, n_val
            )
            r = fit_response(
                scales, values, blocks, num_classes=c, mode=mode, curve=False, model=model
            )
            responses.append(r)
            s_true = float(truth.optimum(c))
            acc = per_c[i]
            acc["interior"].append(r.interior)
            if r.interior:
                acc["covered"].append(r.ci[0] <= s_true <= r.ci[1])
                acc["width"].append(np.log(r.ci[1] / r.ci[0]))
                acc["error"].append(np.log(r.scale / s_true))
            acc["low"].append(float(values.min()))
            acc["high"].append(float(values.max()))
            acc["window"].append(
                (float(true_acc.min()), float(true_acc.max()), float(window[0]), float(window[-1]))
            )
        fit, _ = law_over(responses)
        if fit is not None:
            a_hat.append(fit.a), a_ci.append(fit.a_ci), b_ci.append(fit.b_ci)
            g_hat.append(fit.gamma), g_ci.append(fit.gamma_ci), lof.append(fit.lack_of_fit_p)
            power = power_law_over(responses)
            k_hat.append(power.k), k_ci.append(power.k_ci), power_lof.append(power.lack_of_fit_p)
    fitted = len(a_hat)
    a_ci_arr = np.asarray(a_ci).reshape(-1, 2)
    b_ci_arr = np.asarray(b_ci).reshape(-1, 2)
    g_ci_arr = np.asarray(g_ci).reshape(-1, 2)
    gamma_true = truth.a / SQRT2

    def share(mask: np.ndarray) -> float:
        return float(np.mean(mask)) if len(mask) else float("nan")

    per_class = []
    for i, c in enumerate(counts):
        acc = per_c[i]
        window = np.asarray(acc["window"])
        top = truth.top_at(i, n_c)
        n_val = truth.per_class("val_per_class", i, n_c) * c
        binomial_sd = float(np.sqrt(top * (1 - top) / n_val))
        noise = float(np.sqrt(truth.per_class("train_noise", i, n_c) ** 2 + binomial_sd**2))
        per_class.append(
            {
                "num_classes": int(c),
                "true_scale": float(truth.optimum(c)),
                "top_accuracy": top,
                "interior": share(np.asarray(acc["interior"])),
                "coverage": share(np.asarray(acc["covered"])),
                "coverage_studies": len(acc["covered"]),  # those with an interior vertex at this C
                "median_width_ln": float(np.median(acc["width"])) if acc["width"] else float("nan"),
                "median_width_ln_interval": median_interval(acc["width"]),
                "median_error_ln": float(np.median(acc["error"])) if acc["error"] else float("nan"),
                "window_accuracy": [float(np.median(window[:, 0])), float(np.median(window[:, 1]))],
                "window_scales": [float(np.median(window[:, 2])), float(np.median(window[:, 3]))],
                "observed_accuracy": [float(np.median(acc["low"])), float(np.median(acc["high"]))],
                "replicate_sd": noise,
                "drop_over_noise": float(np.median(window[:, 1] - window[:, 0]) / noise),
            }
        )
    return PowerResult(
        design=asdict(design),
        truth=asdict(truth),
        model=model,
        studies=studies,
        seed=seed,
        law_fitted=fitted / studies,
        power=float(np.sum(a_ci_arr[:, 0] > 0) / studies) if studies else float("nan"),
        # a, b and gamma have no true value when the truth is a power law
        coverage_a=share((a_ci_arr[:, 0] <= truth.a) & (truth.a <= a_ci_arr[:, 1]))
        if not truth.power_law
        else float("nan"),
        coverage_b=share((b_ci_arr[:, 0] <= truth.b) & (truth.b <= b_ci_arr[:, 1]))
        if not truth.power_law
        else float("nan"),
        coverage_gamma=share((g_ci_arr[:, 0] <= gamma_true) & (gamma_true <= g_ci_arr[:, 1]))
        if truth.b == 0 and not truth.power_law
        else None,
        median_width_a=float(np.median(a_ci_arr[:, 1] - a_ci_arr[:, 0]))
        if fitted
        else float("nan"),
        median_width_a_interval=median_interval(a_ci_arr[:, 1] - a_ci_arr[:, 0]),
        median_a=float(np.median(a_hat)) if fitted else float("nan"),
        median_gamma=float(np.median(g_hat)) if fitted else float("nan"),
        law_rejected=share(np.asarray(lof) < 0.05),
        power_law_rejected=share(np.asarray(power_lof) < 0.05),
        **_k_summary(truth, k_hat, k_ci),
        per_class=per_class,
        seconds=time.perf_counter() - start,
    )


def _k_summary(truth: Truth, k_hat: list[float], k_ci: list[tuple]) -> dict[str, float | None]:
    """With a power-law truth: the coverage of k's intervals, their median width, the median k."""
    if not truth.power_law or not k_hat:
        return {}
    ci = np.asarray(k_ci).reshape(-1, 2)
    k = truth.power_law[1]
    return {
        "coverage_k": float(np.mean((ci[:, 0] <= k) & (k <= ci[:, 1]))),
        "median_width_k": float(np.median(ci[:, 1] - ci[:, 0])),
        "median_k": float(np.median(k_hat)),
    }


# What a design must reach under the law it is checked against (the main job's targets)
TARGETS = {"power": 0.9, "coverage_a": 0.9, "median_width_a": 1.5}


def meets_targets(result: PowerResult) -> bool:
    return (
        result.power >= TARGETS["power"]
        and result.coverage_a >= TARGETS["coverage_a"]
        and result.median_width_a <= TARGETS["median_width_a"]
    )


def seed_plan(
    design: ScaleDesign,
    truth: Truth,
    seed_counts: tuple[int, ...],
    studies: int = 200,
    seed: int = 0,
    model: str = "auto",
) -> list[PowerResult]:
    """``simulate`` of ``design`` on 0..n-1 paired seeds for each n of ``seed_counts`` (the same
    screen and windows: only the estimate stage's blocks change, as `study resume --seeds` adds them)."""
    return [
        simulate(
            replace(design, seeds=tuple(range(n))), truth, studies=studies, seed=seed, model=model
        )
        for n in seed_counts
    ]


def projected_minutes(design: ScaleDesign, seconds: dict[str, Any] | None) -> float | None:
    """Wall minutes of a design on the machine ``seconds`` was measured on (a study's fixed
    seconds, and each stage's seconds per trial divided by the workers that ran side by side)."""
    if not seconds:
        return None
    groups = len(design.class_counts)
    busy = (
        design.screen_trials * seconds["screen_trial"]
        + design.estimate_trials * seconds["estimate_trial"]
    ) * groups
    return (seconds["fixed"] + busy / seconds["workers"]) / 60.0


def plan_lines(results: list[PowerResult], minutes: list[float | None]) -> list[str]:
    """The table of ``study power --plan``: one row per seed count, then the fewest seeds that
    reach ``TARGETS`` (or that none of them does)."""
    lines = [
        f"{'seeds':>5} {'trials':>6} {'minutes':>7} {'power [95% MC]':>18} {'coverage a [95% MC]':>19} "
        f"{'width a':>7} {'median a':>8}  vertex width per C (ln s)"
    ]
    for result, minute in zip(results, minutes, strict=True):
        d = result.design
        trials = (len(d["screen_scales"]) + d["window_points"] * len(d["seeds"])) * len(
            d["class_counts"]
        )
        widths = ",".join(_f(p["median_width_ln"]) for p in result.per_class)
        lines.append(
            f"{len(d['seeds']):>5d} {trials:>6d} {_f(minute, '.0f'):>7} "
            f"{share_with_interval(result.power, result.studies):>18} "
            f"{share_with_interval(result.coverage_a, round(result.law_fitted * result.studies)):>19} "
            f"{_f(result.median_width_a):>7} {_f(result.median_a):>8}  {widths}"
        )
    reached = [r for r in results if meets_targets(r)]
    goal = (
        f"power >= {TARGETS['power']:g}, coverage of a >= {TARGETS['coverage_a']:g}, "
        f"a's median width <= {TARGETS['median_width_a']:g}"
    )
    lines.append(
        f"targets ({goal}): reached with {len(reached[0].design['seeds'])} seeds"
        if reached
        else f"targets ({goal}): not reached with up to {len(results[-1].design['seeds'])} seeds"
    )
    return lines


def wilson_interval(share: float, studies: int) -> tuple[float, float]:
    """The 95% Wilson interval of a Monte-Carlo share over ``studies`` simulated studies."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(round(share * studies), studies, method="wilson")
    return float(low), float(high)


def median_interval(values: Any) -> tuple[float, float]:
    """The distribution-free 95% interval of the median of ``values`` (order statistics,
    scipy.stats.quantile_test); NaN where there are too few values to bound it."""
    from scipy.stats import quantile_test

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 6:  # fewer cannot reach 95% on both sides
        return float("nan"), float("nan")
    ci = quantile_test(values, q=float(np.median(values)), p=0.5).confidence_interval(0.95)
    return float(ci.low), float(ci.high)


def share_with_interval(share: float | None, studies: int) -> str:
    """A Monte-Carlo share and its 95% Wilson interval over ``studies`` simulated studies."""
    if share is None or not np.isfinite(share) or studies < 1:
        return "n/a"
    low, high = wilson_interval(share, studies)
    return f"{share:.2f} [{low:.2f}, {high:.2f}]"


def _f(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def _list(values: Any) -> str:
    return ",".join(format(v, "g") for v in np.atleast_1d(values))


def _truth_law(t: dict[str, Any]) -> str:
    if t["power_law"]:
        return f"{t['power_law'][0]:.3g} (C - 1)^{t['power_law'][1]:.3g}"
    return f"{t['a']:.3g} ln(C - 1) + {t['b']:.3g}"


def summary_lines(result: PowerResult) -> list[str]:
    """The printed report of ``study power`` ("n/a" where no study fitted the law or no vertex was interior)."""
    t = result.truth
    fitted = round(result.law_fitted * result.studies)  # the studies that fitted the law
    lines = [
        f"{result.studies} simulated studies; truth s*(C) = {_truth_law(t)}, curvature {_list(t['curvature'])} "
        f"per ln-unit^2 (flat side x{_list(t['asymmetry'])}, {t['shape']} peak, |u|^{_list(t['exponent'])}), training noise {_list(t['train_noise'])}, seed effect {t['seed_effect']:g}, "
        f"{_list(t['val_per_class'])} validation images per class; estimator model: {result.model}",
        f"law fitted (>= 3 interior vertices): {result.law_fitted:.2f} of studies",
        f"power to detect a > 0 (a's lower 95% bound > 0): "
        f"{share_with_interval(result.power, result.studies)}",
        f"coverage of a's 95% interval: {share_with_interval(result.coverage_a, fitted)}; "
        f"of b's: {_f(result.coverage_b)}"
        + ("" if result.coverage_gamma is None else f"; of gamma's: {_f(result.coverage_gamma)}")
        + " (coverage among the studies that fitted the law)",
        f"median width of a's 95% interval: {_f(result.median_width_a, '.3g')} "
        f"[{_f(result.median_width_a_interval[0], '.3g')}, {_f(result.median_width_a_interval[1], '.3g')}] "
        f"(median a = {_f(result.median_a, '.3g')}, "
        f"median gamma = {_f(result.median_gamma, '.3g')})",
        *(
            [
                f"coverage of k's 95% interval: {_f(result.coverage_k)}; median width "
                f"{_f(result.median_width_k, '.3g')} (median k = {_f(result.median_k, '.3g')})"
            ]
            if result.coverage_k is not None
            else []
        ),
        f"law rejected by its own lack-of-fit test (p < 0.05): {_f(result.law_rejected)} of fitted studies; "
        f"the power law c (C - 1)^k by its own: {_f(result.power_law_rejected)}",
        "per class count: true s*, interior share, vertex CI coverage, median CI width (each with its 95% "
        "Monte-Carlo interval) and median error of s* (ln s), median window, true accuracy across the window, "
        "observed range, drop / replicate sd",
    ]
    for p in result.per_class:
        low, high = p["median_width_ln_interval"]
        lines.append(
            f"  C={p['num_classes']:<5d} s* {p['true_scale']:5.2f}  interior {p['interior']:.2f}  "
            f"coverage {share_with_interval(p['coverage'], p['coverage_studies'])}  "
            f"width {_f(p['median_width_ln'])} [{_f(low)}, {_f(high)}]  error {_f(p['median_error_ln'], '+.2f')}  window s {p['window_scales'][0]:.3g}-"
            f"{p['window_scales'][1]:.3g}  accuracy {p['window_accuracy'][0]:.3f}-{p['window_accuracy'][1]:.3f}  observed "
            f"{p['observed_accuracy'][0]:.3f}-{p['observed_accuracy'][1]:.3f}  drop/sd {p['drop_over_noise']:.1f}"
        )
    return lines


__all__ = [
    "SHAPES",
    "TARGETS",
    "PowerResult",
    "Truth",
    "meets_targets",
    "plan_lines",
    "projected_minutes",
    "seed_plan",
    "share_with_interval",
    "median_interval",
    "wilson_interval",
    "simulate",
    "summary_lines",
]
