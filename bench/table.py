"""The text ``study bench`` prints: each figure against its target, then the details behind it."""

from __future__ import annotations

from typing import Any

from bench.stats import fmt_interval


def _fmt(value: Any, unit: str = "") -> str:
    return (
        "-"
        if value is None
        else f"{value:,.2f}{unit}"
        if isinstance(value, float)
        else f"{value}{unit}"
    )


def _race_line(name: str, race: dict[str, Any]) -> str:
    lines = [
        f"  {name}: small_cnn {race['small_cnn_val_accuracy']:.4f} val accuracy after {race['epochs']} "
        f"epochs in {race['small_cnn_s']:.1f} s (mean of {race['seeds']} seeds); pool_cnn's schedules:"
    ]
    for s in race["schedules"]:
        lines.append(
            f"    {s['epochs']} epochs: {s['pool_cnn_val_accuracy']:.4f}, pool - small "
            f"{fmt_interval(s['val_accuracy_difference'], 4)} "
            f"({'reaches' if s['reaches'] else 'does not reach'} it), in {s['pool_cnn_s']:.1f} s: "
            f"{fmt_interval(s['speedup'])}x (CPU seconds {fmt_interval(s['cpu_speedup'])}x)"
        )
    if not race["reached"]:
        lines.append(f"    {race['note']}")
    return "\n".join(lines)


def _details(result: dict[str, Any]) -> dict[str, str]:
    """The detail beside each figure that was measured."""
    out: dict[str, str] = {}
    if "time_to_accuracy" in result:
        glyphs = result["time_to_accuracy"]["races"]["glyphs"]
        out["time_to_accuracy_speedup"] = (
            f"glyphs C = {glyphs['config']['data.num_classes']}: small_cnn's run over the shortest "
            f"pool_cnn schedule that reaches its final val accuracy"
            + (
                f" ({glyphs['pool_cnn_epochs']} of {glyphs['epochs']} epochs), geometric mean over "
                f"{glyphs['seeds']} paired seeds {fmt_interval(glyphs['speedup'])}"
                if glyphs["reached"]
                else ": none does"
            )
            + " (details below)"
        )
    if "routine" in result:
        r = result["routine"]
        out["routine_share_of_ceiling"] = (
            f"routine {r['routine_images_per_s']:,.0f} img/s vs bare steps {r['ceiling_images_per_s']:,.0f} "
            f"img/s ({r['dataset']} {r['num_classes']} classes, {r['image_size_px']} px, {r['model']}); "
            f"on CPU seconds {r['routine_share_of_ceiling_cpu']:.2f}; per alternation "
            f"{fmt_interval(r['routine_share_of_ceiling_interval'])}; {r['threads']} thread{'s' * (r['threads'] != 1)}"
            + (
                f"; on {r['all_cores']['threads']} threads {r['all_cores']['routine_share_of_ceiling']:.2f}"
                f" (CPU seconds {r['all_cores']['routine_share_of_ceiling_cpu']:.2f})"
                if "all_cores" in r
                else ""
            )
        )
    if "orchestration" in result:
        o, e, j = result["orchestration"], result["evaluation"], result["main_job"]
        low, high = o["orchestration_overhead_interval"]
        out["orchestration_overhead"] = (
            f"95% interval [{low:.2f}, {high:.2f}] from the trials' scatter; "
            f"study {o['study_s']:.1f} s vs loop {o['loop_s']:.1f} s for {o['trials']} trials of "
            f"{o['trial_s']:.1f} s (identical trials: {o['identical_trials']}; loop drift {o['loop_drift']:.2f}); "
            f"on CPU seconds of all its processes {o['orchestration_overhead_cpu']:.2f}"
        )
        low, high = e["evaluation_share_interval"]
        spread = (
            f"95% interval [{low:.3f}, {high:.3f}] over the trials of each class count"
            if low == low  # NaN with one trial per class count
            else "no interval (one trial per class count)"
        )
        out["evaluation_share"] = (
            f"{spread}; {e['trials']} main-job trials; on CPU seconds {e['evaluation_share_cpu']:.2f}"
        )
        low, high = j["extrapolated_minutes_interval"]
        spread = (
            f"95% interval [{low:.1f}, {high:.1f}] from the trials' scatter (not the machine's drift)"
            if low == low  # NaN with one trial per class count
            else "no interval (one trial per class count)"
        )
        out["main_job_minutes"] = (
            f"measured: `study run`, every trial; extrapolated {j['extrapolated_minutes']:.1f}, {spread}"
            if not j["is_extrapolation"]
            else f"EXTRAPOLATED from CPU seconds of its trials ({j['trials']} trials, {j['concurrent_trials']} at a time), "
            f"{spread}; on the wall seconds measured under this load: {j['main_job_minutes_wall_basis']:.1f} min"
        )
    if "memory" in result:
        m = result["memory"]
        out["peak_memory_mb"] = "one smoke trial, fresh process" + (
            f" (imports alone {m['import_only_mb']:.0f} MB)" if "import_only_mb" in m else ""
        )
    return out


def format_table(result: dict[str, Any]) -> str:
    """The figures against their targets, the details behind them, then trials per hour (each part
    only when its section ran)."""
    from bench.run import SECTIONS

    details = _details(result)
    sections = result.get("sections", list(SECTIONS))
    lines = [
        f"study bench --size {result['size']}"
        + (f" --only {','.join(sections)}" if sections != list(SECTIONS) else "")
        + f": {result['machine']['cpu_cores']} CPU cores, torch {result['machine']['torch']}",
        f"load average (1 min) {result['machine']['load_average_1min']['start']:.1f} at the start, "
        f"{result['machine']['load_average_1min']['end']:.1f} at the end: other work on the cores skews the seconds",
        f"{'metric':26s} {'value':>9s}  {'target':8s} {'met':4s} detail",
    ]
    for key, detail in details.items():
        met = {True: "yes", False: "no", None: "-"}[result["meets_targets"][key]]
        lines.append(
            f"{key:26s} {_fmt(result[key]):>9s}  {result['targets'][key]:8s} {met:4s} {detail}"
        )
    lines.append("")
    if "time_to_accuracy" in result:
        lines.append(
            "time to accuracy (whole runs on paired seeds, one torch thread; intervals 95%):"
        )
        for name, race in result["time_to_accuracy"]["races"].items():
            lines.append(_race_line(name, race))
    if "preset_match" in result:
        lines.append(
            "pool_cnn vs small_cnn on the presets' trials (final val accuracy, pool - small, all losses x seeds):"
        )
        for row in result["preset_match"]:
            lines.append(
                f"  {row['preset']:7s} {row['size']:6s} {fmt_interval(row['val_accuracy_difference'], 4):>28s}  "
                f"worst loss {row['worst_loss_difference']:+.4f}; matches: {'yes' if row['matches'] else 'no'}; "
                f"pool_cnn {fmt_interval(row['time_ratio'])}x faster per trial"
            )
    if "routine" in result:
        r = result["routine"]
        lines.append(
            f"routine vs a textbook DataLoader loop: {r['routine_speedup']:.2f}x; the bare compute bounds it at "
            f"{r['speedup_bound']:.2f}x"
        )
    if "orchestration" in result:
        o, j = result["orchestration"], result["main_job"]
        lines.append(
            f"excluded from the overhead ratio: ray.init {result['ray_startup_s']:.1f} s, importing Ray/Optuna/MLflow "
            f"{result['import_s']:.1f} s, creating the sqlite store {result['store_setup_s']:.1f} s; Tune's start "
            f"{o['first_trial_start_s']:.1f} s once, a fresh worker's first trial {o.get('first_trial_extra_s', 0.0):.1f} s "
            f"more, then {o['steady_overhead_per_trial_s']:.2f} s per trial; projected over 20 trials "
            f"{o['projected_overhead_20_trials']:.2f}, over 100 {o['projected_overhead_100_trials']:.2f}"
        )
        per_c = ", ".join(
            f"C={c['num_classes']}: {c['trial_cpu_s']:.1f} s" for c in j["per_class_count"]
        )
        lines.append(
            f"main job trials (CPU seconds, full length): {per_c}; data rendered per class subset in "
            f"{sum(j['data_preparation']['render_s']):.1f} s for all class counts (font inventory "
            f"{j['data_preparation']['inventory_s']:.1f} s, once per machine, not counted)"
        )
    if "trials_per_hour_detail" in result:
        lines.append("")
        lines.append(
            "trials per hour on this machine, ESTIMATED from measured epoch times (in brackets: the study's"
        )
        lines.append(
            "projected time over a plain loop at that trial length); see `trials_per_hour_detail`:"
        )
        sizes = result["bench_size"]["sizes"]
        rows = {(row["preset"], row["size"]): row for row in result["trials_per_hour_detail"]}

        def cell(row: dict[str, Any]) -> str:
            if "skipped" in row:
                return "-"
            return f"{row['trials_per_hour']:,.1f} ({row['projected_orchestration_overhead']:.2f}x)"

        lines.append(f"{'preset':18s} " + " ".join(f"{s:>18s}" for s in sizes))
        for preset in result["trials_per_hour"]:
            lines.append(
                f"{preset:18s} " + " ".join(f"{cell(rows[preset, s]):>18s}" for s in sizes)
            )
        for row in result["trials_per_hour_detail"]:
            if "skipped" in row:
                lines.append(f"  skipped {row['preset']} {row['size']}: {row['skipped']}")
    if "gpu" in result:
        lines.append("")
        lines.append(_gpu_line(result["gpu"], result["targets"]["gpu_epoch_s"]))
    return "\n".join(lines)


def _gpu_line(gpu: dict[str, Any], target: str) -> str:
    if "skipped" in gpu:
        return f"GPU (ResNet-20, CIFAR-10-sized tensors): {gpu['skipped']}"
    rows = [
        f"{mode} {g['epoch_s']:.2f} s per epoch, {g['images_per_s']:,.0f} img/s (first epoch {g['first_epoch_s']:.1f} s)"
        for mode, g in gpu.items()
    ]
    return (
        f"GPU {gpu['eager']['device']} (ResNet-20, CIFAR-10-sized tensors, validation included; target {target} s per epoch): "
        + "; ".join(rows)
    )


__all__ = ["format_table"]
