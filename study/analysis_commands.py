"""``study trend`` and ``study replay``: the analysis side of the CLI, once arguments are parsed."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from study.errors import UsageError
from study.tracking import check_tracking_uri, normalize_tracking_uri

EPOCH_KEYS = ("train_loss", "val_accuracy", "test_accuracy", "scale")  # the compact per-epoch line
FREE_FORM = re.compile(r"^loss\.(params|terms\.[^.]+\.params)\.")  # keys whose type the config cannot infer


def checked_store(tracking_uri: str) -> str:
    """The normalized URI of a store that exists: reading commands never create an empty one."""
    uri = normalize_tracking_uri(tracking_uri)
    check_tracking_uri(uri)
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file():
        raise UsageError(f"--tracking-uri {uri}: no MLflow store there yet (`study run` creates it)")
    return uri


def load_store(tracking_uri: str, experiment: str | None):
    """The trials of a checked store as a DataFrame; a UsageError when there are none."""
    from analysis import load_trials

    uri = checked_store(tracking_uri)
    try:
        trials = load_trials(uri, experiment)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    if trials.empty:
        raise UsageError(f"--tracking-uri {uri}: the store holds no trial runs" + (f" in study {experiment!r}" if experiment else ""))
    return uri, trials


def trend_command(args: argparse.Namespace) -> int:
    """Optimum scale per class count and the fit s*(C) = a ln(C-1) + b -> trend.json, trend.png/svg."""
    from analysis.figures import reference_points, slug
    from analysis.plots import plot_scale_curves, plot_trend
    from analysis.report import json_safe, study_objective
    from analysis.trends import BANDWIDTH, scale_trend

    bandwidth = BANDWIDTH if args.bandwidth is None else args.bandwidth
    if not bandwidth > 0:
        raise UsageError(f"--bandwidth {bandwidth}: expected a positive width in ln(scale) units, e.g. {BANDWIDTH}")
    uri, trials = load_store(args.tracking_uri, args.experiment)
    trends, missing = [], []
    for name, group in trials.groupby("experiment", sort=True):
        metric, mode = study_objective(group, args.metric, args.mode)
        if f"metric:{metric}" not in group:
            recorded = sorted(c[len("metric:"):] for c in group if c.startswith("metric:"))
            missing.append(f"study {name!r} recorded no metric {metric!r}; it has: {', '.join(recorded) or 'none'}")
        trends.append(scale_trend(group, metric, mode, experiment=str(name), bandwidth=bandwidth,
                                  n_boot=args.bootstrap, seed=args.seed))
    usable = [t for t in trends if t.optima]
    if not usable:
        raise UsageError("; ".join(missing or [f"study {t.experiment!r}: {t.message}" for t in trends]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = plot_trend(usable, out / "trend", reference_points())
    for t in usable:
        written += plot_scale_curves(t, out / f"{slug(t.experiment)}-scale_curves")
    data = {"tracking_uri": uri, "trends": [t.to_dict() for t in trends]}
    (out / "trend.json").write_text(json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")
    for t in trends:
        print(f"study {t.experiment} ({t.metric}, {t.mode}):")
        for o in t.optima:
            print(f"  C={o.num_classes:<5d} s* = {o.scale:6.3g}  95% CI [{o.ci_low:.3g}, {o.ci_high:.3g}]"
                  f"{' (edge of the searched range)' if o.at_edge else ''}  AdaCos {o.adacos_scale:.3g}  "
                  f"best trial s = {o.best_scale:.3g} ({o.trials} trials)")
        print(f"  {t.message}")
    print(f"wrote {out / 'trend.json'} and {len(written)} figures ({', '.join(p.name for p in written[:2])}, ...)")
    return 0


def flat_config(params: dict[str, str], overrides: list[str] = ()) -> dict[str, Any]:
    """Recorded params (MLflow keeps strings) plus ``KEY=VALUE`` overrides, ready for ``TrialConfig.from_flat``.

    Typed fields are converted by ``from_flat`` itself; only the free-form loss parameters get
    their number or boolean back here.
    """
    flat: dict[str, Any] = dict(params)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. train.epochs=2")
        flat[key.strip()] = value.strip()
    return {k: _scalar(v) if FREE_FORM.match(k) else v for k, v in flat.items()}


def _scalar(text: str) -> Any:
    if text in ("True", "False", "true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def replay_command(args: argparse.Namespace) -> int:
    """Re-train a recorded trial from its params alone: no Optuna, no Ray, no MLflow writes."""
    from analysis import load_run
    from trainables.config import ConfigError, TrialConfig

    uri = checked_store(args.tracking_uri)
    try:
        record = load_run(uri, args.run_id)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    if record.is_study_run:
        raise UsageError(f"run {args.run_id} is the parent run of study {record.experiment!r}, not a trial; "
                         "`study report` lists the trial runs")
    if not record.params:
        raise UsageError(f"run {args.run_id} recorded no params, so it cannot be replayed")
    try:
        cfg = TrialConfig.from_flat(flat_config(record.params, args.set or []))
    except ConfigError as exc:
        raise UsageError(f"run {args.run_id}: its params do not form a valid TrialConfig: {exc}") from None
    from trainables.routine import TrialDiverged, train  # torch: only once the config is valid

    outcome = record.tags.get("trial_status", record.status.lower())
    print(f"replaying run {record.run_id} of study {record.experiment} (recorded: {outcome}): loss {cfg.loss.output}, "
          f"scale {cfg.scale.schedule} {cfg.scale.start:g}, data {cfg.data.name} C={cfg.data.num_classes or 'all'}, "
          f"{cfg.train.total_epochs} epochs, seed {cfg.train.seed}", flush=True)

    def report(metrics: dict[str, float], state: Any = None) -> None:
        shown = "  ".join(f"{k} {metrics[k]:.4f}" for k in EPOCH_KEYS if k in metrics)
        print(f"epoch {int(metrics['epoch'])}/{cfg.train.total_epochs}  {shown}  ({metrics.get('epoch_time_s', 0):.1f} s)", flush=True)

    try:
        final = train(cfg, report)
    except TrialDiverged as exc:
        print(f"the replay diverged as a trial can: {exc}", flush=True)
        return 1
    print("final: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(final.items()) if isinstance(v, float) and k != "epoch_time_s"))
    for name in ("val_accuracy", "test_accuracy"):
        recorded, replayed = record.metrics.get(name), final.get(name)
        if recorded is None or replayed is None:
            continue
        print(f"{name}: recorded {recorded:.4f}, replayed {replayed:.4f} (difference {replayed - recorded:+.4f})")
    return 0


__all__ = ["checked_store", "flat_config", "load_store", "replay_command", "trend_command"]
