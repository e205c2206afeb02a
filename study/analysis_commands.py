"""``study trend``, ``study power`` and ``study replay``: the analysis side of the CLI, once arguments are parsed."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from study.errors import UsageError
from study.output_paths import check_out_dir, check_out_file
from study.tracking import check_tracking_uri, normalize_tracking_uri
from trainables.metric_names import VAL_ACCURACY

EPOCH_KEYS = ("train_loss", VAL_ACCURACY, "test_accuracy", "scale")  # the compact per-epoch line


def checked_store(tracking_uri: str) -> str:
    """The normalized URI of a store that exists: reading commands never create an empty one."""
    uri = normalize_tracking_uri(tracking_uri)
    check_tracking_uri(uri)
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).is_file():
        raise UsageError(
            f"--tracking-uri {uri}: no MLflow store there yet (`study run` creates it)"
        )
    if uri.startswith("file://"):  # a file store (a path without a scheme is one too)
        path = Path(uri[len("file://") :])
        if path.is_file():
            raise UsageError(
                f"--tracking-uri {tracking_uri}: {path} is a file, and a path without a scheme names "
                f"a file store (a directory); for a sqlite store use sqlite:///{tracking_uri}"
            )
        if not path.is_dir():
            raise UsageError(
                f"--tracking-uri {uri}: no MLflow store there yet (`study run` creates it)"
            )
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
        raise UsageError(
            f"--tracking-uri {uri}: the store holds no trial runs"
            + (f" in study {experiment!r}" if experiment else "")
        )
    return uri, trials


def trend_command(args: argparse.Namespace) -> int:
    """Per-C response curves, vertices s*(C) and the law s*(C) = a ln(C-1) + b -> trend.json, figures."""
    from analysis.figures import slug
    from analysis.plots import plot_scale_curves, plot_trend
    from analysis.report import json_safe, study_objective
    from analysis.trends import scale_trend

    check_out_dir("--out", args.out)
    uri, trials = load_store(args.tracking_uri, args.experiment)
    trends, missing = [], []
    for name, group in trials.groupby("experiment", sort=True):
        metric, mode = study_objective(group, args.metric, args.mode)
        if f"metric:{metric}" not in group:
            recorded = sorted(c[len("metric:") :] for c in group if c.startswith("metric:"))
            missing.append(
                f"study {name!r} recorded no metric {metric!r}; it has: {', '.join(recorded) or 'none'}"
            )
        trends.append(
            scale_trend(
                group,
                metric,
                mode,
                experiment=str(name),
                bandwidth=args.bandwidth,
                n_boot=args.bootstrap,
                seed=args.seed,
                model=args.model,
            )
        )
    usable = [t for t in trends if t.optima]
    if not usable:
        raise UsageError(
            "; ".join(missing or [f"study {t.experiment!r}: {t.message}" for t in trends])
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the thesis optima are another metric: JSON only, with a note
    written = plot_trend(usable, out / "trend")
    for t in usable:
        written += plot_scale_curves(t, out / f"{slug(t.experiment)}-scale_curves")
    data = {"tracking_uri": uri, "trends": [t.to_dict() for t in trends]}
    (out / "trend.json").write_text(json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")
    for t in trends:
        print("\n".join(trend_lines(t)))
    print(
        f"wrote {out / 'trend.json'} and {len(written)} figures ({', '.join(p.name for p in written[:2])}, ...)"
    )
    return 0


def trend_lines(t: Any) -> list[str]:
    """The printed per-C table and the law's line of one study's TrendResult."""
    lines = [
        f"study {t.experiment} ({t.metric}, {t.mode}"
        + ("; estimation stage only" if t.staged else "")
        + "):"
    ]
    if t.optima:
        lines.append(
            f"  {'C':>5} {'trials':>6} {'seeds':>5} {'levels':>6} {'model':>9} {'s*':>7} {'95% interval':>17} "
            f"{'LOF p':>6} {'curvature [95%]':>24} {'AdaCos':>6}"
        )
    for o in t.optima:
        interval = f"[{o.ci[0]:.3g}, {o.ci[1]:.3g}]" if o.interior else "-"
        curvature = (
            f"{o.curvature:.3g} [{o.curvature_ci[0]:.3g}, {o.curvature_ci[1]:.3g}]"
            if o.model
            else "-"
        )
        lines.append(
            f"  {o.num_classes:>5d} {o.trials:>6d} {len(o.seeds):>5d} {len(o.scale_levels):>6d} {o.model or '-':>9} "
            f"{(f'{o.scale:.3g}' if o.interior else '-'):>7} {interval:>17} {o.lack_of_fit_p_model:>6.2g} {curvature:>24} "
            f"{o.adacos_scale:>6.3g}"
        )
        if not o.interior:
            lines.append(f"        no vertex in the law: {o.reason}")
        lines += [f"        warning: {w}" for w in o.warnings]
    if t.excluded:
        lines.append("  left out: " + "; ".join(f"{n} ({r})" for r, n in t.excluded.items()))
    if t.cross_check:
        lines.append(
            "  cross-check, kernel-smoother argmax (not the estimate): "
            + ", ".join(f"C={c['num_classes']} {c['scale']:.3g}" for c in t.cross_check)
        )
    lines.append(f"  {t.message}")
    if t.power_law is not None:
        from analysis.power_law import power_law_line

        lines.append(f"  {power_law_line(t.power_law)}")
    return lines


# preset -> module with design(size) and val_per_class(size, num_classes)
SCALE_DESIGNS = {"scale-vs-classes": "study.presets.scale_vs_classes"}


def preset_design(preset: str, size: str | None) -> tuple[Any, tuple[int, ...], str]:
    """The two-stage ScaleDesign of a preset at a size, its validation images per class at each
    class count, and the size."""
    import importlib

    from study.presets import PRESETS

    if preset not in SCALE_DESIGNS:
        raise UsageError(
            f"--preset {preset}: no two-stage scale design to simulate; presets with one: {', '.join(SCALE_DESIGNS)}"
        )
    size = size or PRESETS.get(preset).default_size
    module = importlib.import_module(SCALE_DESIGNS[preset])
    design = module.design(size)
    return design, tuple(module.val_per_class(size, c) for c in design.class_counts), size


# no run measured
GENERIC_PEAK = {
    "top": 0.9,
    "curvature": 0.05,
    "asymmetry": 0.5,
    "exponent": 2.0,
    "train_noise": 0.01,
    "seed_effect": 0.01,
}


def power_command(args: argparse.Namespace) -> int:
    """Simulate a preset's scale design against a known law and run the real estimator on it."""
    import importlib

    import numpy as np

    from analysis.power import Truth, simulate, summary_lines
    from analysis.report import json_safe

    if args.figure and not args.plan:
        raise UsageError(f"--figure {args.figure}: it draws the seed plan; give --plan too")
    for flag, path in (("--json", args.json), ("--figure", args.figure)):
        if path:
            check_out_file(flag, path)
    design, val_per_class, size = preset_design(args.preset, args.size)
    if args.seeds:
        design = replace(design, seeds=tuple(range(args.seeds)))
    module = importlib.import_module(SCALE_DESIGNS[args.preset])
    measured = getattr(module, "MEASURED_PEAKS", {}).get(size, {})
    peak = {
        name: getattr(args, name)
        if getattr(args, name) is not None
        else measured.get(name, GENERIC_PEAK[name])
        for name in GENERIC_PEAK
    }
    peak["val_per_class"] = tuple(int(v) for v in args.val_per_class or val_per_class)
    for name, flag in (
        ("top", "--top-accuracy"),
        ("curvature", "--curvature"),
        ("asymmetry", "--asymmetry"),
        ("exponent", "--exponent"),
        ("train_noise", "--train-noise"),
        ("val_per_class", "--val-per-class"),
    ):
        values = tuple(np.atleast_1d(peak[name]))
        if len(values) not in (1, len(design.class_counts)):
            raise UsageError(
                f"{flag} {','.join(map(str, values))}: give one value or "
                f"{len(design.class_counts)} (one per class count {', '.join(map(str, design.class_counts))})"
            )
    if args.power_law and len(args.power_law) != 2:
        raise UsageError(
            f"--power-law {','.join(map(str, args.power_law))}: give two numbers C,K (s* = C (C-1)^K)"
        )
    truth = Truth(
        a=args.a,
        b=args.b,
        power_law=tuple(args.power_law or ()),
        **peak,
        screen_shift=args.screen_shift,
        shape=args.shape,
        smooth_width=args.smooth_width,
    )
    low = min(truth.optimum(c) for c in design.class_counts)
    if not low > 0:
        raise UsageError(
            f"--a {args.a} --b {args.b}: the law gives s* = {low:.3g} <= 0 at some class count; "
            "expected a positive optimum scale at every C"
        )
    source = (
        f"the peaks measured at {size} size"
        if measured
        else "generic peaks (no run of this size measured)"
    )
    print(
        f"simulating {args.studies} studies of {args.preset} ({size}, {source}): C = {', '.join(map(str, design.class_counts))}, "
        f"screen {len(design.screen_scales)} scales, window {design.window_points} scales x +-{design.window_half_width:g} "
        f"ln-units x " + ("each row's seeds" if args.plan else f"{len(design.seeds)} seeds"),
        flush=True,
    )
    if args.plan:
        return _plan(args, design, truth, getattr(module, "MEASURED_SECONDS", {}).get(size), size)
    result = simulate(design, truth, studies=args.studies, seed=args.seed, model=args.model)
    print("\n".join(summary_lines(result)))
    print(f"({result.seconds:.1f} s)")
    if args.json:
        data = {"preset": args.preset, "size": size, **result.to_dict()}
        Path(args.json).write_text(json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.json}")
    return 0


def _plan(args: argparse.Namespace, design: Any, truth: Any, seconds: Any, size: str) -> int:
    """``study power --plan``: the design at each seed count, and the fewest that reach the targets."""
    from analysis.power import plan_lines, projected_minutes, seed_plan
    from analysis.report import json_safe

    counts = tuple(sorted({int(n) for n in args.plan}))
    results = seed_plan(design, truth, counts, args.studies, args.seed, args.model)
    minutes = [projected_minutes(replace(design, seeds=tuple(range(n))), seconds) for n in counts]
    print("\n".join(plan_lines(results, minutes)))
    print(
        f"(minutes: projected from the trial seconds a real {size}-size run measured, "
        f"{seconds['workers']} trials side by side on {seconds['machine']})"
        if seconds
        else f"(minutes: no {size}-size run measured to project from)"
    )
    rows = [
        {"seeds": n, "minutes": m, **r.to_dict()}
        for n, m, r in zip(counts, minutes, results, strict=True)
    ]
    if args.figure:
        from analysis.plots import plot_seed_plan
        from analysis.power import TARGETS

        paths = plot_seed_plan(rows, TARGETS, args.figure)
        print("wrote " + ", ".join(map(str, paths)))
    if args.json:
        data = {"preset": args.preset, "size": size, "plan": rows}
        Path(args.json).write_text(json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.json}")
    return 0


def flat_config(params: dict[str, str], overrides: list[str] = ()) -> dict[str, Any]:
    """Recorded params (MLflow keeps strings) plus ``KEY=VALUE`` overrides, ready for
    ``TrialConfig.from_flat``, which gives each text value its type (``trainables.flat``)."""
    flat: dict[str, Any] = dict(params)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. train.epochs=2")
        flat[key.strip()] = value.strip()
    return flat


def replay_config(params: dict[str, str], overrides: list[str], run_id: str) -> Any:
    """The TrialConfig of a recorded run with ``--set`` overrides, checked as ``study run`` checks
    a trial's (names, parameters, the dataset on disk and its classes) before anything trains."""
    from trainables.config import ConfigError, TrialConfig
    from trainables.validate import check_data, check_names

    try:
        cfg = TrialConfig.from_flat(flat_config(params, overrides))
        check_names(cfg)
        check_data(cfg)
    except ConfigError as exc:
        raise UsageError(
            f"run {run_id}: its params with --set do not form a valid trial: {exc}"
        ) from None
    return cfg


def replay_command(args: argparse.Namespace) -> int:
    """Re-train a recorded trial from its params alone: no Optuna, no Ray, no MLflow writes."""
    from analysis import load_run

    uri = checked_store(args.tracking_uri)
    try:
        record = load_run(uri, args.run_id)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    if record.is_study_run:
        raise UsageError(
            f"run {args.run_id} is the parent run of study {record.experiment!r}, not a trial; "
            "`study report` lists the trial runs"
        )
    if not record.params:
        raise UsageError(f"run {args.run_id} recorded no params, so it cannot be replayed")
    cfg = replay_config(record.params, args.set or [], args.run_id)
    from trainables.routine import TrialDiverged, train  # torch: only once the config is valid

    outcome = record.tags.get("trial_status", record.status.lower())
    print(
        f"replaying run {record.run_id} of study {record.experiment} (recorded: {outcome}): loss {cfg.loss.output}, "
        f"scale {cfg.scale.schedule} {cfg.scale.start:g}, data {cfg.data.name} C={cfg.data.num_classes or 'all'}, "
        f"{cfg.train.total_epochs} epochs, seed {cfg.train.seed}",
        flush=True,
    )

    def report(metrics: dict[str, float], state: Any = None) -> None:
        shown = "  ".join(f"{k} {metrics[k]:.4f}" for k in EPOCH_KEYS if k in metrics)
        print(
            f"epoch {int(metrics['epoch'])}/{cfg.train.total_epochs}  {shown}  ({metrics.get('epoch_time_s', 0):.1f} s)",
            flush=True,
        )

    try:
        final = train(cfg, report)
    except TrialDiverged as exc:
        print(f"the replay diverged as a trial can: {exc}", flush=True)
        return 1
    print(
        "final: "
        + ", ".join(
            f"{k} {v:.4f}"
            for k, v in sorted(final.items())
            if isinstance(v, float) and k != "epoch_time_s"
        )
    )
    for name in (VAL_ACCURACY, "test_accuracy"):
        recorded, replayed = record.metrics.get(name), final.get(name)
        if recorded is None or replayed is None:
            continue
        print(
            f"{name}: recorded {recorded:.4f}, replayed {replayed:.4f} (difference {replayed - recorded:+.4f})"
        )
    return 0


__all__ = [
    "checked_store",
    "flat_config",
    "load_store",
    "power_command",
    "replay_command",
    "trend_command",
    "trend_lines",
]
