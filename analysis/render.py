"""Render a report's JSON (``analysis.report.write_report``) as Markdown and as one self-contained HTML page."""
from __future__ import annotations

import base64
import html as html_lib
from pathlib import Path
from typing import Any

import pandas as pd

FIGURE_TITLES = {
    "history": "Optimization history", "importance": "Parameter importances (fANOVA)",
    "scale_curves": "Metric vs scale per class count", "trend": "Optimum scale vs class count",
    "groups": "Head/tail and per-class accuracy", "schedules": "Scale schedules",
    "proxy_cosine": "Proxy cosine similarity over epochs (mean ± 1 std)",
}


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _trend_lines(trend: dict[str, Any] | None) -> list[str]:
    """Plain sentences about the scale trend, shared by both formats."""
    if not trend:
        return []
    fit = trend["fit"]
    lines = [] if fit else [trend["message"] + "."]
    if fit:
        lines.append("Fit s*(C) = a ln(C - 1) + b by weighted least squares over the per-C optima: "
                     f"a = {fit['a']:.3f} (95% CI {fit['a_ci'][0]:.3f} to {fit['a_ci'][1]:.3f}; bootstrap "
                     f"{_fmt(fit['a_ci_bootstrap'][0])} to {_fmt(fit['a_ci_bootstrap'][1])}), b = {fit['b']:.3f} "
                     f"(95% CI {fit['b_ci'][0]:.3f} to {fit['b_ci'][1]:.3f}), R^2 = {_fmt(fit['r2'])}, "
                     f"{fit['n_points']} class counts. AdaCos predicts a = 1.414, b = 0.")
    if trend["excluded"]:
        lines.append("Left out of the trend: " + "; ".join(f"{n} ({r})" for r, n in trend["excluded"].items()) + ".")
    return lines


def _optima_table(trend: dict[str, Any] | None) -> pd.DataFrame | None:
    if not trend or not trend["optima"]:
        return None
    return pd.DataFrame([{
        "C": o["num_classes"], "trials": o["trials"], "s*": o["scale"], "95% CI": f"{o['ci_low']:.3g} to {o['ci_high']:.3g}",
        "edge": "yes" if o["at_edge"] else "", "best trial s": o["best_scale"], "best value": o["best_value"],
        "AdaCos s": o["adacos_scale"],
    } for o in trend["optima"]])


def _beside_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The paper-vs-ours records as text cells: numbers to 6 significant digits, a dash where unknown."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "–"
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    return pd.DataFrame([{k: cell(v) for k, v in r.items()} for r in records])


def _sections(study: dict[str, Any]) -> list[tuple[str, Any]]:
    """(kind, content) blocks of one study: kind is h2, h3, p, code, table or figure."""
    metric, mode = study["metric"], study["mode"]
    out: list[tuple[str, Any]] = [("h2", f"Study {study['experiment']}")]
    counts = ", ".join(f"{k} {v}" for k, v in study["trial_status_counts"].items()) or "none recorded"
    out.append(("p", f"{study['trials']} trials; outcome counts: {counts}."))
    best = study["best"]
    if best is None:
        return out + [("p", f"No finished trial reported {metric}.")]
    test = f", test accuracy = {best['test_accuracy']:.4f}" if best["test_accuracy"] is not None else ""
    out += [("p", f"Best trial {best['run_id']}: {metric} = {best[metric]:.4f} "
                  f"({'higher' if mode == 'max' else 'lower'} is better){test}. Replay it without the search:"),
            ("code", best["replay"]),
            ("table", pd.DataFrame(sorted(best["config"].items()), columns=["setting", "value"]))]
    if study["per_class_count"]:
        out += [("h3", "Best configuration per class count"), ("table", pd.DataFrame(study["per_class_count"]))]
    out += [("h3", f"Top {len(study['top'])} trials by {metric}"), ("table", pd.DataFrame(study["top"]))]
    if study["trend"] and study["trend"]["optima"]:  # only studies whose trials searched a constant scale
        out += [("h3", "Optimum scale vs class count")] + [("p", line) for line in _trend_lines(study["trend"])]
        table = _optima_table(study["trend"])
        if table is not None:
            out.append(("table", table))
    imp = study.get("importances") or {}
    if imp.get("importances"):
        out += [("h3", "Parameter importances"), ("p", imp["message"] + "."),
                ("table", pd.DataFrame(list(imp["importances"].items()), columns=["parameter", "importance"]))]
    for paper in study.get("paper_tables") or []:
        out += [("h3", f"Published: {paper['source']} ({paper['dataset']}, {paper['metric']})"), ("p", paper["notes"])]
        if paper.get("beside"):  # ours beside the paper's, per grid cell
            out.append(("table", _beside_table(paper["beside"])))
        else:
            out.append(("table", pd.DataFrame([{paper["column"]: k, paper["metric"]: v} for k, v in paper["rows"].items()])))
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
                lines.append(content.to_markdown(index=False, floatfmt=".4g"))
            elif kind == "figure":
                lines.append(f"![{FIGURE_TITLES.get(content[0], content[0])}]({content[1]})")
            else:
                lines.append(content)
            lines.append("")
    return "\n".join(lines) + "\n"


CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
       "th{background:#f3f3f3}code{background:#f3f3f3;padding:2px 4px}img{max-width:100%}")


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
                body.append(content.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0))
            elif kind == "figure":
                name, path = content
                data = base64.b64encode((Path(base) / path).read_bytes()).decode("ascii")
                title = esc(FIGURE_TITLES.get(name, name))
                body.append(f'<figure><img alt="{title}" src="data:image/png;base64,{data}"><figcaption>{title}</figcaption></figure>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Study report</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


__all__ = ["html", "markdown"]
