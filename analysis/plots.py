"""Figures as PNG and SVG (matplotlib, Agg). Each function only draws what a compute function returned.

Inputs come from ``analysis.trends.scale_trend`` (TrendResult), ``analysis.summaries.*_info``
and ``analysis.importance.importance_info``. Each ``plot_*`` writes ``<stem>.png`` and
``<stem>.svg`` and returns both paths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: E402

from analysis.trends import TrendResult  # noqa: E402

DPI = 120
FORMATS = ("png", "svg")


def save(fig: Any, stem: str | Path) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.svg``, close it, return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(f"{stem.name}.{fmt}") for fmt in FORMATS]
    fig.tight_layout()
    for path in paths:
        fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return paths


def _log_x(ax: Any) -> None:
    """Log x axis labelled at 1, 2, 5 x 10^k in plain numbers."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_scale_curves(trend: TrendResult, stem: str | Path) -> list[Path]:
    """Metric vs scale per class count: trials coloured by seed, the fitted curve (seed average) with its
    95% band, the vertex s* with its 95% interval, and AdaCos's s for comparison."""
    optima = trend.optima
    cols = min(3, max(1, len(optima)))
    rows = max(1, math.ceil(len(optima) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(optima) :]:
        ax.set_visible(False)
    if not optima:
        axes[0, 0].set_visible(True)
        axes[0, 0].text(0.5, 0.5, trend.message, ha="center", va="center", wrap=True, fontsize=8)
        axes[0, 0].set_axis_off()
    for ax, o in zip(axes.flat, optima):
        seeds = sorted(set(o.points["seed"]))
        for j, seed in enumerate(seeds):
            pick = [i for i, v in enumerate(o.points["seed"]) if v == seed]
            ax.scatter(
                [o.points["scale"][i] for i in pick],
                [o.points["value"][i] for i in pick],
                s=14,
                alpha=0.7,
                color=f"C{j % 10}",
                label=f"seed {seed}" if len(seeds) > 1 else "trials",
            )
        if o.curve:
            ax.plot(
                o.curve["scale"],
                o.curve["value"],
                color="k",
                linewidth=1.2,
                label=f"{o.model} fit (seed average)",
            )
            ax.fill_between(
                o.curve["scale"],
                o.curve["low"],
                o.curve["high"],
                color="k",
                alpha=0.12,
                label="95% band",
            )
        if o.interior:
            ax.axvspan(
                max(o.ci[0], 1e-3), o.ci[1], color="C3", alpha=0.15, label="95% interval of s*"
            )
            ax.axvline(o.scale, color="C3", linewidth=1.2)
        ax.axvline(
            o.adacos_scale, color="C2", linestyle="--", linewidth=1, label="AdaCos sqrt(2) ln(C-1)"
        )
        _log_x(ax)
        head = (
            f"C = {o.num_classes}: s* = {o.scale:.3g} [{o.ci[0]:.3g}, {o.ci[1]:.3g}]"
            if o.interior
            else f"C = {o.num_classes}: no vertex ({o.reason[:48]})"
        )
        if np.isfinite(o.exponent):  # a split model: the shape of its peak
            head += f", peak |ln s - v|^{o.exponent:g}"
        ax.set_title(head, fontsize=8)
        ax.set_xlabel("scale s")
        ax.set_ylabel(trend.metric)
    if optima and axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=6)
    fig.suptitle(
        f"{trend.experiment}: {trend.metric} vs constant scale"
        + (" (estimation stage)" if trend.staged else ""),
        fontsize=10,
    )
    return save(fig, stem)


def plot_trend(
    trends: Sequence[TrendResult], stem: str | Path, reference: Sequence[dict] = ()
) -> list[Path]:
    """The law panel: per-C vertices with 95% intervals, the fitted law s*(C) = a ln(C-1) + b with its
    95% band and gamma, and AdaCos's line. ``reference`` points (the thesis's optima) are another
    metric on other data and are drawn grey, labelled as such."""
    fig, ax = plt.subplots(figsize=(6.6, 4.6))
    counts: list[float] = []
    for i, trend in enumerate(trends):
        color = f"C{i}"
        inside = [o for o in trend.optima if o.interior]
        counts += [o.num_classes for o in trend.optima]
        if inside:
            ax.errorbar(
                [o.num_classes for o in inside],
                [o.scale for o in inside],
                yerr=[[o.scale - o.ci[0] for o in inside], [o.ci[1] - o.scale for o in inside]],
                fmt="o",
                color=color,
                capsize=3,
                label=f"{trend.experiment}: s* per C (95% interval)",
            )
        missing = [o.num_classes for o in trend.optima if not o.interior]
        if missing:
            ax.plot(
                missing,
                [0.0] * len(missing),
                "x",
                color=color,
                clip_on=False,
                label=f"{trend.experiment}: no interior vertex at C = {', '.join(map(str, missing))}",
            )
        if trend.fit is not None:
            band, f = trend.fit.band, trend.fit
            ax.plot(
                band["num_classes"],
                band["fit"],
                color=color,
                label=f"law {f.formula}, gamma = {f.gamma:.2f} [{f.gamma_ci[0]:.2f}, {f.gamma_ci[1]:.2f}], "
                f"lack of fit p = {f.lack_of_fit_p:.2g}",
            )
            ax.fill_between(
                band["num_classes"],
                band["low"],
                band["high"],
                color=color,
                alpha=0.15,
                label="95% band of the law",
            )
            counts += band["num_classes"]
        if trend.power_law is not None:
            p = trend.power_law
            ax.plot(
                p.band["num_classes"],
                p.band["fit"],
                ":",
                color=color,
                linewidth=2,
                label=f"power law {p.formula}, k in [{p.k_ci[0]:.2f}, {p.k_ci[1]:.2f}], "
                f"lack of fit p = {p.lack_of_fit_p:.2g}",
            )
    if counts:
        grid = np.geomspace(max(3.0, min(counts)), max(max(counts), 4.0), 100)
        ax.plot(
            grid,
            math.sqrt(2) * np.log(grid - 1),
            "k--",
            linewidth=1,
            label="AdaCos sqrt(2) ln(C-1) (gamma = 1)",
        )
    for r in reference:
        ax.scatter(
            [r["num_classes"]],
            [r["scale"]],
            marker="*",
            s=60,
            color="0.6",
            zorder=3,
            label=f"thesis: {r['dataset']} best s = {r['scale']:g} ({r['metric']}, another metric and data)",
        )
    _log_x(ax)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("class count C")
    ax.set_ylabel("optimum scale s*")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)
    if len(trends) == 1 and trends[0].fit is None:
        ax.set_title(trends[0].message[:120], fontsize=7)
    return save(fig, stem)


def plot_history(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """Metric vs trial order, one colour per group, with the best-so-far line; failures as ticks."""
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    for i, (name, g) in enumerate(info["groups"].items()):
        ax.scatter(g["order"], g["value"], s=14, color=f"C{i}", alpha=0.6, label=name)
        ax.step(g["order"], g["best_so_far"], where="post", color=f"C{i}")
    if info["failed_order"]:
        ax.plot(
            info["failed_order"],
            [0.01] * len(info["failed_order"]),
            "|",
            color="red",
            markersize=10,
            transform=ax.get_xaxis_transform(),
            label="failed / no value",
        )
    ax.set_xlabel("trial (start order); lines: best so far")
    ax.set_ylabel(info["metric"])
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return save(fig, stem)


def plot_importances(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """Horizontal bars of fANOVA importances, largest on top."""
    items = list(info["importances"].items())[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * max(3, len(items)) + 1))
    if items:
        ax.barh([k for k, _ in items], [v for _, v in items], color="C0")
        ax.set_xlabel(f"importance ({info['method']}, {info['trials']} trials)")
    else:
        ax.text(0.5, 0.5, info["message"], ha="center", va="center", wrap=True, fontsize=8)
        ax.set_axis_off()
    return save(fig, stem)


def plot_groups(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """Grouped bars of overall/head/tail accuracy for the top trials; per-class values of the best."""
    panels = int(bool(info["groups"])) + int(bool(info["per_class"]["classes"]))
    fig, axes = plt.subplots(1, max(1, panels), figsize=(6.4 * max(1, panels), 3.8), squeeze=False)
    ax_iter = iter(axes.flat)
    if info["groups"]:
        ax = next(ax_iter)
        width = 0.8 / max(1, len(info["trials"]))
        for i, t in enumerate(info["trials"]):
            ax.bar(
                [g + i * width for g in range(len(info["groups"]))],
                [t["values"].get(k) or 0.0 for k in info["groups"]],
                width,
                label=t["label"],
            )
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(info["groups"]))], info["groups"])
        ax.set_ylabel("test accuracy (recall)")
        ax.legend(fontsize=7)
    if info["per_class"]["classes"]:
        ax = next(ax_iter)
        ax.bar(info["per_class"]["classes"], info["per_class"]["values"], color="C0")
        ax.set_xlabel("class")
        ax.set_ylabel("test recall")
        ax.set_title(f"best trial {str(info['per_class']['run_id'])[:8]}", fontsize=9)
    if not panels:
        axes[0, 0].text(
            0.5, 0.5, "no head/tail or per-class metrics recorded", ha="center", va="center"
        )
        axes[0, 0].set_axis_off()
    return save(fig, stem)


def plot_schedules(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """Planned scale over the training epochs (lines) and the logged per-epoch scale (dots)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, c in enumerate(info["curves"]):
        ax.plot(
            c["epoch"],
            [math.nan if v is None else v for v in c["scale"]],
            color=f"C{i}",
            label=c["label"],
        )
        if c["measured_epoch"]:
            ax.plot(c["measured_epoch"], c["measured_scale"], "o", color=f"C{i}", markersize=3)
    if not info["curves"]:
        ax.text(0.5, 0.5, "no trial of a loss with a scale", ha="center", va="center")
    ax.set_xlim(left=0)
    ax.set_xlabel("epoch (planned: lines; logged: dots)")
    ax.set_ylabel("scale s")
    if info["curves"]:
        ax.legend(fontsize=7)
    return save(fig, stem)


def plot_proxy_cosines(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """Mean pairwise cosine between class proxies over epochs, one line per trial, band of +-1 std."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for i, c in enumerate(info["curves"]):
        ax.plot(c["epoch"], c["mean"], color=f"C{i}", marker="o", markersize=3, label=c["label"])
        ax.fill_between(c["epoch"], c["low"], c["high"], color=f"C{i}", alpha=0.15)
    if not info["curves"]:
        ax.text(0.5, 0.5, "no trial logged proxy_cos_mean", ha="center", va="center")
    ax.set_xlabel("epoch")
    ax.set_ylabel("proxy-proxy cosine (mean ± 1 std)")
    if info["curves"]:
        ax.legend(fontsize=7)
    return save(fig, stem)


def plot_pareto(info: dict[str, Any], stem: str | Path) -> list[Path]:
    """The first two objectives of every trial, one colour per arm, the non-dominated trials ringed and joined
    (``analysis.summaries.pareto_info``); a baseline arm's trials (one per seed) as triangles, never on
    the front, with their mean and its 95% interval as a cross (a searched arm has no such interval:
    its trials are the sampler's choices, not replicates)."""
    (mx, my), (dx, dy) = info["metrics"][:2], info["modes"][:2]
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    for k, arm in enumerate(sorted({p["arm"] for p in info["points"]})):
        mine = [p for p in info["points"] if p["arm"] == arm]
        color, baseline = f"C{k}", any(p.get("baseline") for p in mine)
        ax.scatter(
            [p["values"][mx] for p in mine],
            [p["values"][my] for p in mine],
            s=40 if baseline else 22,
            alpha=0.8 if baseline else 0.6,
            color=color,
            marker="^" if baseline else "o",
            label=f"{arm}: {len(mine)} seeds" if baseline else f"{arm} ({len(mine)} trials)",
        )
        stats = info["arms"].get(arm, {})
        cx, cy = stats.get(mx, {}), stats.get(my, {})
        if cx.get("low") is not None and cy.get("low") is not None:
            ax.errorbar(
                [cx["mean"]],
                [cy["mean"]],
                xerr=[[cx["mean"] - cx["low"]], [cx["high"] - cx["mean"]]],
                yerr=[[cy["mean"] - cy["low"]], [cy["high"] - cy["mean"]]],
                color=color,
                marker="x",
                markersize=9,
                capsize=3,
                linestyle="none",
                alpha=0.45,
                label=f"{arm}: mean over its seeds, 95% CI",
            )
    front = sorted(info["front"], key=lambda p: p["values"][mx])
    if front:
        ax.plot(
            [p["values"][mx] for p in front],
            [p["values"][my] for p in front],
            color="k",
            linewidth=1,
            drawstyle="steps-post" if (dx == "max") != (dy == "max") else "steps-pre",
            alpha=0.7,
        )
        ax.scatter(
            [p["values"][mx] for p in front],
            [p["values"][my] for p in front],
            s=70,
            facecolors="none",
            edgecolors="k",
            label=f"Pareto front ({len(front)} non-dominated)",
        )
    # the trials set the view; wide intervals run off it
    for metric, limits in ((mx, ax.set_xlim), (my, ax.set_ylim)):
        seen = [p["values"][metric] for p in info["points"]]
        seen += [
            s[metric]["mean"]
            for s in info["arms"].values()
            if s.get(metric, {}).get("mean") is not None
        ]
        if seen:
            pad = max(0.08 * (max(seen) - min(seen)), 0.02 * max(1.0, abs(max(seen))))
            limits(min(seen) - pad, max(seen) + pad)
    ax.set_xlabel(f"{mx} ({'higher' if dx == 'max' else 'lower'} is better)")
    ax.set_ylabel(f"{my} ({'higher' if dy == 'max' else 'lower'} is better)")
    ax.set_title("Pareto front: no trial on it is beaten in both objectives")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, stem)


def plot_seed_plan(
    rows: Sequence[dict[str, Any]], targets: dict[str, float], stem: str | Path
) -> list[Path]:
    """``study power --plan --figure``: per seed count the power to detect a > 0 with its 95%
    Wilson interval over the simulated studies, and a's median interval width, each against its
    target; the projected minutes label the seed counts."""
    from analysis.power import wilson_interval

    seeds = [row["seeds"] for row in rows]
    power = [row["power"] for row in rows]
    low, high = zip(*(wilson_interval(row["power"], row["studies"]) for row in rows), strict=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    left.fill_between(seeds, low, high, alpha=0.25, label="95% Monte-Carlo interval")
    left.plot(seeds, power, "o-", label="power (a's lower 95% bound > 0)")
    left.axhline(targets["power"], color="k", ls="--", lw=1, label=f"target {targets['power']:g}")
    left.set_ylim(0, 1.02)
    left.set_ylabel("power")
    right.plot(
        seeds,
        [row["median_width_a"] for row in rows],
        "o-",
        color="C1",
        label="a's median 95% width",
    )
    right.axhline(
        targets["median_width_a"],
        color="k",
        ls="--",
        lw=1,
        label=f"target {targets['median_width_a']:g}",
    )
    right.set_ylabel("width of a's 95% interval")
    for ax in (left, right):
        ax.set_xticks(seeds)
        ax.set_xticklabels(
            [
                f"{n}\n{row['minutes']:.0f} min" if row.get("minutes") is not None else str(n)
                for n, row in zip(seeds, rows, strict=True)
            ]
        )
        ax.set_xlabel("paired seeds (projected minutes)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"the design at each seed count ({rows[0]['studies']} simulated studies each)")
    return save(fig, stem)


__all__ = [
    "plot_groups",
    "plot_history",
    "plot_importances",
    "plot_pareto",
    "plot_proxy_cosines",
    "plot_scale_curves",
    "plot_schedules",
    "plot_seed_plan",
    "plot_trend",
    "save",
]
