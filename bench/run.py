"""``study bench``: routine speed, orchestration overhead, memory and trials per hour, side by side.

Everything is measured on this machine, in this order: our routine against a textbook
DataLoader loop and against the model's bare compute (bench_routine.py), the same trials through
``run_study`` and through a plain loop (bench_orchestration.py), the peak memory of one smoke
trial in a fresh process and an estimate of trials per hour for every preset's sizes
(bench_capacity.py), and ResNet-20 epochs on CIFAR-10-sized tensors where a CUDA device is
visible (bench_device.py). The targets live here, in the output, never in timed tests: machines
are shared and noisy, so read the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping

TARGETS = {"routine_speedup": ">= 2.0", "orchestration_overhead": "<= 1.15", "peak_memory_mb": "< 1500"}


@dataclass(frozen=True)
class BenchSize:
    speed_data: Mapping[str, Any]  # flat data.* keys of the routine-vs-textbook run (glyphs)
    speed_epochs: int  # epochs of each routine and textbook run
    speed_repeats: int  # runs of each side, alternating (routine, textbook, ceiling, ceiling, textbook, routine, ...)
    trial_set: str  # bench_trials.TRIAL_SETS key: the trials of the orchestration comparison
    trials: int  # how many of them
    trial_epochs: int  # epochs of each of those trials; 0 = the trial set's own
    probe_epochs: int  # epochs of each trials-per-hour probe; the last one is used
    presets: tuple[str, ...] = ()  # presets whose trials per hour are estimated; () = all
    sizes: tuple[str, ...] = ("smoke", "cpu", "full")  # their sizes
    import_memory: bool = True  # also measure the memory of a process that only imports the routine
    gpu: bool = True  # ResNet-20 epochs on CIFAR-10-sized tensors when a CUDA device is visible


BENCH_SIZES = {
    # seconds on 2 cores: a few hundred images, 2 one-epoch digits trials, the smoke preset only
    "tiny": BenchSize({"data.num_classes": 10, "data.max_per_class": 40}, 1, 1, "smoke", 2, 1, 1, ("smoke",), ("smoke", "cpu"),
                      import_memory=False, gpu=False),
    # ~12 minutes on 2 cores: all 53 default glyph classes at 100 images each; 10 trials of the main
    # job (about 10 s each here, the trial length the overhead target is set for)
    "default": BenchSize({"data.max_per_class": 100}, 2, 2, "main-job", 10, 0, 2),
}


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def meets(value: float, target: str) -> bool:
    """``value`` against a target such as ``">= 2.0"`` or ``"< 1500"``."""
    match = re.fullmatch(r"\s*(>=|<=|>|<)\s*([0-9.]+)\s*", target)
    if not match:
        raise ValueError(f"target {target!r}: expected an operator (>=, <=, >, <) and a number")
    op, bound = match.group(1), float(match.group(2))
    return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[op]


def run_bench(size: str, data_root: str = "", log: Any = print) -> dict[str, Any]:
    """Measure everything for ``size`` (a key of BENCH_SIZES); returns the JSON document."""
    import torch

    from study.bench_capacity import estimate_trials_per_hour, peak_memory_mb
    from study.bench_orchestration import measure_orchestration
    from study.bench_routine import measure_routine_speedup
    from study.bench_trials import TRIAL_SETS, smoke_trial
    from study.presets import PRESETS

    plan, cores = BENCH_SIZES[size], cpu_cores()
    threads = cores  # concurrency 1 in the comparisons: one trial may use every core
    log(f"routine vs textbook loop ({plan.speed_epochs} epochs of glyphs) ...")
    load_start = os.getloadavg()[0]
    routine = measure_routine_speedup({**plan.speed_data, "train.epochs": plan.speed_epochs}, threads, plan.speed_repeats)
    log(f"{plan.trials} trials through Ray Tune + Optuna + MLflow and in a plain loop ...")
    orchestration = measure_orchestration(TRIAL_SETS[plan.trial_set](plan.trial_epochs), plan.trials, threads)
    log("peak memory of one smoke trial in a fresh process ...")
    memory = {"peak_memory_mb": peak_memory_mb(smoke_trial(4))}
    if plan.import_memory:
        memory["import_only_mb"] = peak_memory_mb({})
    log("trials per hour (estimates from measured epochs) ...")
    presets = list(plan.presets or PRESETS.names())
    rows = estimate_trials_per_hour(presets, plan.sizes, data_root, plan.probe_epochs, cores,
                                    orchestration["overhead_per_trial_s"])
    if plan.gpu:
        from study.bench_device import measure_gpu

        log("ResNet-20 on CIFAR-10-sized tensors on the GPU ..." if torch.cuda.is_available() else "no CUDA device: no GPU figures")
        gpu = measure_gpu()
    else:
        gpu = {"skipped": f"not measured at size {size}"}
    torch.set_num_threads(threads)
    values = {"routine_speedup": routine["routine_speedup"],
              "orchestration_overhead": orchestration["orchestration_overhead"],
              "peak_memory_mb": memory["peak_memory_mb"]}
    return {
        **values,
        "ray_startup_s": orchestration["ray_startup_s"],
        "store_setup_s": orchestration["store_setup_s"],
        "import_s": orchestration["import_s"],
        "threads_per_trial": threads,
        "trials_per_hour": {p: {r["size"]: r.get("trials_per_hour") for r in rows if r["preset"] == p} for p in presets},
        "trials_per_hour_is_estimate": True,
        "targets": dict(TARGETS),
        "meets_targets": {k: meets(v, TARGETS[k]) for k, v in values.items()},
        "routine": routine,
        "orchestration": orchestration,
        "memory": {**memory, "trial": "the smoke preset's trial (digits, small_cnn, CE) in a fresh process; VmHWM, since ru_maxrss inherits the parent's peak across fork+exec"},
        "trials_per_hour_detail": rows,
        "machine": {"cpu_cores": cores, "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "cuda": torch.cuda.is_available(),
                    "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]}},
        "gpu": gpu,
        "size": size, "bench_size": asdict(plan),
    }


def _fmt(value: Any, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.2f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def format_table(result: dict[str, Any]) -> str:
    """The ratios against their targets, then the trials-per-hour estimates."""
    r, o, m = result["routine"], result["orchestration"], result["memory"]
    details = {
        "routine_speedup": f"routine {r['routine_images_per_s']:,.0f} img/s vs textbook {r['textbook_images_per_s']:,.0f} img/s "
                           f"({r['dataset']} {r['num_classes']} classes, {r['train_images']} train images, {r['model']}, {r['epochs']} epochs)",
        "orchestration_overhead": f"study {o['study_s']:.1f} s vs loop {o['loop_s']:.1f} s for {o['trials']} trials of "
                                  f"{o['trial_s']:.1f} s, {o['epochs_per_trial']} epochs each: {o['trial_set']} "
                                  f"(identical trials: {o['identical_trials']})",
        "peak_memory_mb": "one smoke trial, fresh process" + (f" (imports alone {m['import_only_mb']:.0f} MB)" if "import_only_mb" in m else ""),
    }
    lines = [f"study bench --size {result['size']}: {result['machine']['cpu_cores']} CPU cores, "
             f"torch {result['machine']['torch']}, {result['threads_per_trial']} threads per trial",
             f"load average (1 min) {result['machine']['load_average_1min']['start']:.1f} at the start, "
             f"{result['machine']['load_average_1min']['end']:.1f} at the end: other work on the cores skews the seconds",
             f"{'metric':24s} {'value':>9s}  {'target':8s} {'met':4s} detail"]
    for key, target in result["targets"].items():
        met = "yes" if result["meets_targets"][key] else "no"
        lines.append(f"{key:24s} {_fmt(result[key]):>9s}  {target:8s} {met:4s} {details[key]}")
    lines.append(f"compute ceiling: the model's bare training steps and eval passes run {r['ceiling_images_per_s']:,.0f} img/s, "
                 f"so no routine can beat the textbook by more than {r['speedup_bound']:.2f}x on this machine; "
                 f"ours reaches {100 * r['routine_share_of_ceiling']:.0f}% of the ceiling")
    lines.append(f"excluded from the overhead ratio: ray.init {result['ray_startup_s']:.1f} s, importing Ray/Optuna/MLflow "
                 f"{result['import_s']:.1f} s, creating the sqlite store {result['store_setup_s']:.1f} s "
                 f"(ratio with it: {o['orchestration_overhead_with_store_setup']:.2f})")
    lines.append(f"the study's extra time: {o['first_trial_start_s']:.1f} s once (Tune's start, a fresh worker process and its "
                 f"imports) and {o['steady_overhead_per_trial_s']:.2f} s per trial; a 100-trial study of these trials "
                 f"would take {o['projected_overhead_100_trials']:.2f}x the loop (projected)")
    lines.append("")
    lines.append("trials per hour on this machine, ESTIMATED from measured epoch times (in brackets: the study's")
    lines.append("projected time over a plain loop at that trial length); see `trials_per_hour_detail`:")
    sizes = result["bench_size"]["sizes"]
    rows = {(r["preset"], r["size"]): r for r in result["trials_per_hour_detail"]}
    cell = lambda r: "-" if "skipped" in r else f"{r['trials_per_hour']:,.1f} ({r['projected_orchestration_overhead']:.2f}x)"  # noqa: E731
    lines.append(f"{'preset':18s} " + " ".join(f"{s:>18s}" for s in sizes))
    for preset in result["trials_per_hour"]:
        lines.append(f"{preset:18s} " + " ".join(f"{cell(rows[preset, s]):>18s}" for s in sizes))
    skipped = [row for row in result["trials_per_hour_detail"] if "skipped" in row]
    for row in skipped:
        lines.append(f"  skipped {row['preset']} {row['size']}: {row['skipped']}")
    lines.append("")
    lines.append(_gpu_line(result["gpu"]))
    return "\n".join(lines)


def _gpu_line(gpu: dict[str, Any]) -> str:
    if "skipped" in gpu:
        return f"GPU (ResNet-20, CIFAR-10-sized tensors): {gpu['skipped']}"
    rows = [f"{mode} {g['epoch_s']:.2f} s per epoch, {g['images_per_s']:,.0f} img/s (first epoch {g['first_epoch_s']:.1f} s)"
            for mode, g in gpu.items()]
    return f"GPU {gpu['eager']['device']} (ResNet-20, CIFAR-10-sized tensors, eval included; goal < 3 s per epoch): " + "; ".join(rows)


def bench_command(args: argparse.Namespace) -> int:
    from study.errors import UsageError

    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        raise UsageError(f"--json {args.json}: directory {os.path.dirname(os.path.abspath(args.json))} does not exist")
    result = run_bench(args.size, getattr(args, "data_root", "") or "")
    print(format_table(result), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


__all__ = ["BENCH_SIZES", "BenchSize", "TARGETS", "bench_command", "format_table", "meets", "run_bench"]
