"""Render a report's JSON (``analysis.report.write_report``) as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import base64
import html as html_lib
import math
from pathlib import Path
from typing import Any

import pandas as pd

FIGURE_TITLES = {
    "history": "Optimization history",
    "importance": "Parameter importances (fANOVA)",
    "scale_curves": "Metric vs scale per class count",
    "trend": "Optimum scale vs class count",
    "groups": "Head/tail and per-class accuracy",
    "schedules": "Scale schedules",
    "proxy_cosine": "Proxy cosine similarity over epochs (mean ± 1 std)",
    "pareto": "Pareto front of the objectives",
}


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _trend_lines(trend: dict[str, Any] | None) -> list[str]:
    """Plain sentences about the scale trend, shared by both formats."""
    if not trend:
        return []
    fit = trend["fit"]
    lines = [
        "Per class count, the metric is fitted against ln s with seed effects and, by default, a split peak "
        "|ln s - v|^p near the peak (each side of the vertex v its own steepness, v and the shape exponent p "
        "profiled) with 5 or more scale "
        "levels, else a quadratic; each fitted model's lack of fit is tested against the replicates' pure error "
        "(the quadratic's test stands beside it for reference); s* is the fitted "
        "curve's vertex with a 95% interval"
        + (", from the estimation stage only." if trend.get("staged") else ".")
    ]
    if fit:
        lines.append(
            "Law s*(C) = a ln(C - 1) + b by weighted least squares over the interior vertices (their variances "
            f"taken as known): a = {fit['a']:.3f} (95% CI {fit['a_ci'][0]:.3f} to {fit['a_ci'][1]:.3f}), "
            f"b = {fit['b']:.3f} (95% CI {fit['b_ci'][0]:.3f} to {fit['b_ci'][1]:.3f}); gamma = s*/(sqrt(2) "
            f"ln(C - 1)) = {fit['gamma']:.3f} (95% CI {fit['gamma_ci'][0]:.3f} to {fit['gamma_ci'][1]:.3f}); "
            f"lack of fit against free per-C vertices: chi2 = {fit['chi2']:.3g} on {fit['df']} df, "
            f"p = {_fmt(fit['lack_of_fit_p'])}"
            + (
                f" (intervals widened x{fit['scale_factor']:.2f} for that scatter)"
                if (fit.get("scale_factor") or 1) > 1
                else ""
            )
            + f"; {fit['n_points']} class counts. AdaCos predicts a = 1.414, "
            "b = 0, gamma = 1."
        )
    power = trend.get("power_law")
    if fit and power:
        lines.append(
            f"Power law s*(C) = c (C - 1)^k, the same fit on ln s*: k = {power['k']:.3f} (95% CI "
            f"{power['k_ci'][0]:.3f} to {power['k_ci'][1]:.3f}), c = {power['c']:.3g}; lack of fit "
            f"chi2 = {power['chi2']:.3g} on {power['df']} df, p = {_fmt(power['lack_of_fit_p'])}. The "
            "form whose lack-of-fit test does not reject is the one the vertices follow."
        )
    else:
        lines.append(trend["message"] + ".")
    if trend["excluded"]:
        lines.append(
            "Left out of the trend: "
            + "; ".join(f"{n} ({r})" for r, n in trend["excluded"].items())
            + "."
        )
    return lines


def _optima_table(trend: dict[str, Any] | None) -> pd.DataFrame | None:
    """Per class count the fitted vertex, and the lack-of-fit p of the model that gave it (the quadratic's
    beside it, for reference: it tests another curve)."""
    if not trend or not trend["optima"]:
        return None
    return _text(
        pd.DataFrame(
            [
                {
                    "C": o["num_classes"],
                    "trials": o["trials"],
                    "seeds": len(o["seeds"]),
                    "model": o["model"] or "–",
                    "s*": _num(o["scale"]) if o["interior"] else "–",
                    "95% CI": _ci(o["ci_low"], o["ci_high"]) if o["interior"] else "–",
                    "model's lack-of-fit p": _p(o["lack_of_fit_p_model"]),
                    "quadratic's lack-of-fit p": _p(o["lack_of_fit_p"]),
                    "no vertex because": o["reason"] or "",
                    "AdaCos s": _num(o["adacos_scale"]),
                }
                for o in trend["optima"]
            ]
        )
    )


def _p(value: Any) -> str:
    """A p-value to two significant digits; a dash where no test was possible."""
    return "–" if _unknown(value) else f"{value:.2g}"


def _num(value: Any) -> str:
    """Four significant digits, whole numbers from 1000 up (no exponents in the tables); a dash when unknown."""
    if _unknown(value):
        return "–"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _unknown(value: Any) -> bool:
    """None, or a NaN that a report not yet made JSON-safe still holds."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ci(low: Any, high: Any, note: str | None = None) -> str:
    """``low to high``; where there is no interval, the ``note`` that says why, else a dash."""
    if _unknown(low) or _unknown(high):
        return note or "–"
    return f"{_num(low)} to {_num(high)}"


def _replicated_table(paper: dict[str, Any]) -> pd.DataFrame:
    """Per setting: the paper's value, our mean over the paired seeds and its 95% t interval, per column."""
    names = [paper["metric"], *paper.get("extra", {})]
    rows = []
    for r in paper["beside"]:
        row = {paper["column"]: r[paper["column"]], "seeds": r["seeds"]}
        for name in names:
            row[f"{name} paper"] = _num(r.get(f"{name} (paper)"))
            row[f"{name} ours"] = _num(r.get(f"{name} (ours)"))
            row[f"{name} 95% CI"] = _ci(
                r.get(f"{name} (ours) low"),
                r.get(f"{name} (ours) high"),
                r.get(f"{name} (ours) note"),
            )
        rows.append(row)
    return _text(pd.DataFrame(rows))


def _text(table: pd.DataFrame) -> pd.DataFrame:
    """Mark a table whose cells are already formatted text (Markdown prints them as they are)."""
    table.attrs["text"] = True
    return table


def _contrast_table(paper: dict[str, Any]) -> pd.DataFrame:
    return _text(
        pd.DataFrame(
            [
                {
                    "contrast": c["contrast"],
                    "metric": c["metric"],
                    "paper": _num(c["paper"]),
                    "ours (mean)": _num(c["ours"]),
                    "95% CI": _ci(c["low"], c["high"], c.get("note")),
                    "P(A>B)": _num(c["p_improve"]),
                    "P 95% CI": _ci(c["p_low"], c["p_high"]),
                    "seeds won": _won(c),
                    "seeds": c["pairs"],
                }
                for c in paper["contrasts"]
                if c["ours"] is not None or c["paper"] is not None
            ]
        )
    )


def _won(contrast: dict[str, Any]) -> str:
    """``2 of 3`` (the untied seeds the setting won), with the ties when there are any."""
    if contrast.get("wins") is None or not contrast.get("pairs"):
        return "–"
    ties = contrast["ties"]
    return f"{contrast['wins']} of {contrast['wins'] + contrast['losses']}" + (
        f", {ties} tied" if ties else ""
    )


def _resolution_line(paper: dict[str, Any]) -> str:
    res = (paper.get("resolution") or {}).get(paper["metric"]) or {}
    if res.get("t") is None:
        why = res.get("note") or "it needs at least two paired seeds per cell"
        return (
            f"Resolution of this design: unknown for {paper['metric']}; {why} (`study run --seeds N` "
            "sets the seeds)."
        )
    return (
        f"Resolution of this design: with {res['n']} paired seeds and a contrast sd of {res['sd']:.3g}, "
        f"the smallest difference in {paper['metric']} the paired t test ({res['n'] - 1} degree"
        f"{'s' * (res['n'] != 2)} of freedom) detects with {res['power']:.0%} power at the two-sided {res['alpha']:.0%} level is "
        f"{res['t']:.3g}; the normal approximation 2.8 sd / sqrt(n), {res['normal']:.3g}, holds only "
        "with many seeds."
    )


def _pareto_sections(study: dict[str, Any]) -> list[tuple[str, Any]]:
    pareto = study["pareto"]
    metrics = pareto["metrics"]
    searched = sum(not p.get("baseline") for p in pareto["points"])
    out: list[tuple[str, Any]] = [
        ("h3", f"Pareto front of {' vs '.join(metrics)}"),
        (
            "p",
            f"{searched} finished searched trials, {len(pareto['front'])} on the front: no other trial is at least "
            "as good in every objective and better in one. The study has several objectives, so no trial is "
            "ranked best; the front is listed in order of the first objective for reading only.",
        ),
    ]
    if not pareto["points"]:
        return out + [("p", "No finished trial reported every objective.")]
    out.append(
        (
            "table",
            pd.DataFrame(
                [
                    {
                        "run_id": p["run_id"],
                        "arm": p["arm"],
                        **{m: p["values"][m] for m in metrics},
                        **p["test"],
                        **p["params"],
                        **_versus_columns(p.get("vs_baseline")),
                    }
                    for p in pareto["front"]
                ]
            ),
        )
    )
    if pareto.get("baseline"):
        out += _baseline_sections(pareto["baseline"])
    searched = {
        arm: stats for arm, stats in pareto["arms"].items() if stats.get("kind") != "replicates"
    }
    if searched:
        out += [
            ("h3", "Searched arms: median and range over their trials"),
            (
                "p",
                "A searched arm's trials are the configurations the sampler chose, not replicates of one "
                "configuration: their median and range describe what the search ran, and no interval is "
                "given."
                + (
                    " The baseline arm, one configuration on several seeds, has its mean and 95% t "
                    "interval above."
                    if pareto.get("baseline")
                    else ""
                ),
            ),
            (
                "table",
                _text(
                    pd.DataFrame(
                        [
                            {
                                "arm": arm,
                                "trials": stats["trials"],
                                **{
                                    f"{k} median (range)": _spread(v)
                                    for k, v in stats.items()
                                    if isinstance(v, dict)
                                },
                            }
                            for arm, stats in searched.items()
                        ]
                    )
                ),
            ),
        ]
    return out


def _spread(summary: dict[str, Any]) -> str:
    """``0.81 (0.7 to 0.85)``: a searched arm's median and range; a dash without values."""
    if summary.get("median") is None:
        return "–"
    return f"{_num(summary['median'])} ({_num(summary['min'])} to {_num(summary['max'])})"


VERDICTS = {
    "above": "beats it",
    "below": "below it",
    "within": "within its seed spread",
    "unknown": "unknown (no prediction interval: fewer than 2 baseline seeds, or no spread among them)",
}


def _versus_columns(versus: dict[str, Any] | None) -> dict[str, Any]:
    """A front trial's verdict against the baseline arm, as columns of the front's table."""
    if not versus:
        return {}
    return {
        "vs baseline": VERDICTS[versus["verdict"]]
        + (f" on {versus['metric']}" if versus["metric"] else ""),
        "minus baseline mean": versus["minus_mean"],
        "minus baseline, same seed": versus["minus_same_seed"],
    }


def _baseline_sections(baseline: dict[str, Any]) -> list[tuple[str, Any]]:
    seeds = ", ".join(map(str, baseline["seeds"]))
    return [
        ("h3", f"Baseline {baseline['arm']}: {baseline['trials']} runs on seeds {seeds}"),
        (
            "p",
            "The baseline arm runs the paper's comparison loss on the searched trials' class subset, one run per "
            "seed; it is never on the front. Per metric: the mean over its seeds with a 95% t interval, and the 95% "
            "prediction interval of one run on a new seed. A front trial (one run) beats the baseline when its "
            "important-class recall lies above that prediction interval; the test recall is used when recorded, "
            "because the front was chosen on the validation values.",
        ),
        (
            "table",
            _text(
                pd.DataFrame(
                    [
                        {
                            "metric": m,
                            "seeds": s["n"],
                            "mean": _num(s["mean"]),
                            "95% CI": _ci(s["low"], s["high"], s.get("note")),
                            "one run, 95% PI": _ci(s["pred_low"], s["pred_high"], s.get("note")),
                            **{f"seed {k}": _num(v) for k, v in s["per_seed"].items()},
                        }
                        for m, s in baseline["metrics"].items()
                    ]
                )
            ),
        ),
    ]


def _best_caveat(study: dict[str, Any]) -> str:
    """What the best single trial is and is not, and where the study's estimates are."""
    n = study["best"].get("candidates")
    among = f"the best of {n}" if n else "the best of the"
    where = []
    if study.get("trend") and study["trend"].get("optima"):
        where.append("the fitted vertices s*(C) of the scale trend below, which use every seed")
    if any(p.get("beside") for p in study.get("paper_tables") or []):
        where.append("the means over paired seeds beside the paper's table below")
    return (
        f"This is {among} trials that ran their whole budget (trials stopped early and a staged study's "
        "screen stage are not ranked): a single run, and the best of many noisy ones, so its value is "
        "optimistic: the same configuration on another seed would most likely score worse. "
        + (
            "The study's estimates are " + " and ".join(where) + "."
            if where
            else f"Replay it on other seeds (`study replay {study['best']['run_id']} --set train.seed=K`) "
            "to see how much of its lead is luck."
        )
    )


def _sections(study: dict[str, Any]) -> list[tuple[str, Any]]:
    """(kind, content) blocks of one study: kind is h2, h3, p, code, table or figure."""
    metric, mode = study["metric"], study["mode"]
    out: list[tuple[str, Any]] = [("h2", f"Study {study['experiment']}")]
    counts = (
        ", ".join(f"{k} {v}" for k, v in study["trial_status_counts"].items()) or "none recorded"
    )
    out.append(("p", f"{study['trials']} trials; outcome counts: {counts}."))
    if study.get("departures"):
        out.append(("p", f"Departures from the paper: {study['departures']}"))
    if study.get("pareto") is not None:
        return (
            out
            + _pareto_sections(study)
            + [("figure", (n, p)) for n, p in study["figures"].items()]
        )
    best = study["best"]
    if best is None:
        return out + [
            (
                "p",
                f"No finished trial reported {metric} after its whole budget (trials stopped early and a "
                "staged study's screen stage are not ranked).",
            )
        ]
    label = "test Recall@1 on the unseen test classes" if study.get("selected") else "test accuracy"
    test = f", {label} = {best['test_accuracy']:.4f}" if best["test_accuracy"] is not None else ""
    out += [
        (
            "p",
            f"Best single trial {best['run_id']}: {metric} = {best[metric]:.4f} "
            f"({'higher' if mode == 'max' else 'lower'} is better){test}. Replay it without the search:",
        ),
        ("code", best["replay"]),
        ("p", _best_caveat(study)),
        ("table", pd.DataFrame(sorted(best["config"].items()), columns=["setting", "value"])),
    ]
    if study.get("selected"):
        out += [
            ("h3", f"Selected by {metric}; test Recall@1 of the selection only"),
            (
                "p",
                f"Per dataset, the trial with the best {metric} is the selected configuration, and the test Recall@1 "
                "on classes never seen in training is read for it alone: the test classes never choose a "
                "configuration. The other trials' test values are in the store, not in this report.",
            ),
            (
                "table",
                pd.DataFrame(
                    [
                        {k: v for k, v in row.items() if k not in ("config", "replay")}
                        for row in study["selected"]
                    ]
                ),
            ),
        ]
    if study["per_class_count"]:
        out += [
            ("h3", "Best single trial per class count (optimistic, as above)"),
            ("table", pd.DataFrame(study["per_class_count"])),
        ]
    out += [
        ("h3", f"Top {len(study['top'])} single trials by {metric}, full budget only"),
        ("table", pd.DataFrame(study["top"])),
    ]
    # only studies whose trials searched a constant scale
    if study["trend"] and study["trend"]["optima"]:
        out += [("h3", "Optimum scale vs class count")] + [
            ("p", line) for line in _trend_lines(study["trend"])
        ]
        table = _optima_table(study["trend"])
        if table is not None:
            out.append(("table", table))
        out += [
            ("p", f"Warning at C = {o['num_classes']}: {w}.")
            for o in study["trend"]["optima"]
            for w in o.get("warnings", [])
        ]
    imp = study.get("importances") or {}
    if imp.get("importances"):
        out += [
            ("h3", "Parameter importances"),
            ("p", imp["message"] + "."),
            (
                "table",
                pd.DataFrame(list(imp["importances"].items()), columns=["parameter", "importance"]),
            ),
        ]
    for paper in study.get("paper_tables") or []:
        out += [
            ("h3", f"Published: {paper['source']} ({paper['dataset']}, {paper['metric']})"),
            ("p", paper["notes"]),
        ]
        if paper.get("beside"):  # ours beside the paper's, per grid cell, over paired seeds
            out.append(("table", _replicated_table(paper)))
            if paper.get("contrasts"):
                out += [
                    (
                        "p",
                        f"Paired contrasts against {paper['baseline']} on the same seeds: the mean difference "
                        "with its 95% t interval, and P(A>B), the share of the seeds on which the setting beats the "
                        "baseline (tied seeds left out), with its exact 95% binomial (Clopper-Pearson) interval: with "
                        "fewer than 6 seeds that interval always reaches below one half. The paper's difference beside.",
                    ),
                    ("table", _contrast_table(paper)),
                ]
            out.append(("p", _resolution_line(paper)))
        else:
            out.append(
                (
                    "table",
                    pd.DataFrame(
                        [{paper["column"]: k, paper["metric"]: v} for k, v in paper["rows"].items()]
                    ),
                )
            )
    out += [("figure", (name, path)) for name, path in study["figures"].items()]
    return out


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown; figures are linked, not embedded."""
    lines = ["# Best configurations", ""]
    for study in report["studies"]:
        for kind, content in _sections(study):
            if kind == "h2":
                lines.append(f"## {content}")
            elif kind == "h3":
                lines.append(f"### {content}")
            elif kind == "code":
                lines.append(f"`{content}`")
            elif kind == "table":
                # tables of preformatted text cells (``_text``) keep their digits as written
                lines.append(
                    content.to_markdown(
                        index=False,
                        floatfmt=".4g",
                        disable_numparse=bool(content.attrs.get("text")),
                    )
                )
            elif kind == "figure":
                lines.append(f"![{FIGURE_TITLES.get(content[0], content[0])}]({content[1]})")
            else:
                lines.append(content)
            lines.append("")
    return "\n".join(lines) + "\n"


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
    "th{background:#f3f3f3}code{background:#f3f3f3;padding:2px 4px}img{max-width:100%}"
)


def html(report: dict[str, Any], base: str | Path) -> str:
    """The report as one HTML page with its figures embedded as base64 PNG (``base`` resolves their paths)."""
    esc = html_lib.escape
    body = ["<h1>Best configurations</h1>"]
    for study in report["studies"]:
        for kind, content in _sections(study):
            if kind in ("h2", "h3", "p"):
                body.append(f"<{kind}>{esc(content)}</{kind}>")
            elif kind == "code":
                body.append(f"<p><code>{esc(content)}</code></p>")
            elif kind == "table":
                body.append(
                    content.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
                )
            elif kind == "figure":
                name, path = content
                data = base64.b64encode((Path(base) / path).read_bytes()).decode("ascii")
                title = esc(FIGURE_TITLES.get(name, name))
                body.append(
                    f'<figure><img alt="{title}" src="data:image/png;base64,{data}"><figcaption>{title}</figcaption></figure>'
                )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Study report</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


__all__ = ["html", "markdown"]
