"""``study bench``: what users wait for, measured side by side in one run on this machine.

In this order: the time-to-accuracy race of ``pool_cnn`` against ``small_cnn`` (glyphs C = 40 and
digits) and whether ``pool_cnn`` matches ``small_cnn`` on the small-image presets' trials
(bench.accuracy); the routine against a textbook DataLoader loop and the model's bare compute
(bench.routine); the main job's trials at each class count in a plain loop, then through
``run_study`` (bench.orchestration), giving evaluation's share of a trial and the main job's wall
time, extrapolated (bench.main_job; ``--main-job`` runs it for real); the peak memory of one trial
(bench.memory); trials per hour of every preset (bench.capacity); ResNet-20 epochs on
CIFAR-10-sized tensors where a CUDA device is visible (bench.device). The targets are printed
beside the results (bench.targets), never asserted by timed tests: machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.targets import GPU_EPOCH_TARGET, TARGETS, meets
from study.output_paths import check_out_file


@dataclass(frozen=True)
class BenchSize:
    # flat data.* / model.* keys of the routine-vs-textbook run (glyphs)
    routine_data: Mapping[str, Any]
    speed_epochs: int  # epochs of each routine and textbook run
    speed_repeats: int  # runs of each side, alternating (routine, textbook, ceiling, ceiling, textbook, routine, ...)
    race_size: str  # preset size of the time-to-accuracy races' trials
    race_seeds: tuple[int, ...]  # paired seeds of each race
    match_presets: tuple[str, ...]  # presets whose trials decide whether pool_cnn matches small_cnn
    match_sizes: tuple[str, ...]  # at these sizes
    match_seeds: tuple[int, ...]  # on these paired seeds
    main_job_size: (
        str  # size of the main job whose trials the orchestration loop and the extrapolation use
    )
    per_group: int  # trials per class count in the orchestration comparison (>= 20 in all at the default size: 40)
    drift_every: int  # every n-th loop trial runs again after the study, against drifting load
    probe_epochs: int  # epochs of each trials-per-hour probe; the last one is used
    presets: tuple[str, ...] = ()  # presets whose trials per hour are estimated; () = all
    sizes: tuple[str, ...] = ("smoke", "cpu", "full")  # their sizes
    import_memory: bool = True  # also measure the memory of a process that only imports the routine
    gpu: bool = True  # ResNet-20 epochs on CIFAR-10-sized tensors when a CUDA device is visible


BENCH_SIZES = {
    # a few minutes on 2 cores: every part runs, on the smallest trials (the main job at smoke size)
    "tiny": BenchSize(
        {
            "data.num_classes": 10,
            "data.max_per_class": 40,
            "data.image_size": 16,
            "model.name": "pool_cnn",
        },
        1,
        1,
        "smoke",
        (0,),
        ("smoke",),
        ("smoke",),
        (0,),
        "smoke",
        1,
        3,
        1,
        ("smoke",),
        ("smoke", "cpu"),
        import_memory=False,
        gpu=False,
    ),
    # the figures of bench/README.md: 53 glyph classes at 100 images for the routine (the main
    # job's backbone and image size), the races at cpu size on 4 seeds, the presets' trials on 4
    # seeds, 40 main-job trials (8 scales at each of its 5 class counts), every preset's trials per hour
    "default": BenchSize(
        {"data.max_per_class": 100, "data.image_size": 16, "model.name": "pool_cnn"},
        2,
        8,  # single runs of 3 s scatter by +-10% on shared cores; 4 alternations left 0.83 to 0.98
        "cpu",
        (0, 1, 2, 3),
        ("smoke", "basics"),
        ("smoke", "cpu"),
        (0, 1, 2, 3),
        "cpu",
        # 40 trials: Tune's start and a fresh worker's first trial (about 11 s once) weigh half as
        # much as over 20, which the main job's stages (over 100 trials each) are closer to
        8,
        2,  # every second loop trial again after the study (20): passes differ by 3-6% unaided
        2,
    ),
}


# torch threads of the routine comparison's headline runs: one, as the main job's trials and every
# other trial of the bench; the routine and the ceiling are compared on all cores too. (On 2 cores
# that other jobs share, 2-thread runs slowed up to 10x, their OpenMP threads waiting on each other.)
ROUTINE_THREADS = 1


def cpu_cores() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )


def _main_job(
    plan: BenchSize, cores: int, real: bool, log: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The main job's trials: data preparation, a loop, the same trials as a study; returns
    (orchestration, evaluation share, main job)."""
    import torch

    from bench.main_job import (
        evaluation_share,
        extrapolate,
        group_costs,
        measure_data_preparation,
        minutes_interval,
        run_main_job,
    )
    from bench.orchestration import loop_trials, measure_orchestration
    from bench.trials import TRIAL_SETS, main_job_spec
    from trainables.config import TrialConfig
    from trainables.data import load_dataset

    spec, trial_set = main_job_spec(plan.main_job_size), TRIAL_SETS["main-job"](plan.main_job_size)
    groups_flat = [{**trial_set.base, **g} for g in trial_set.groups]
    log(f"the main job's data from an empty cache ({len(groups_flat)} class counts) ...")
    data = measure_data_preparation(groups_flat)
    # the loop and the study read the data from the cache, as the main job's later trials do
    for flat in groups_flat:
        load_dataset(TrialConfig.from_flat(flat).data, torch.device("cpu"))
    # as the main job runs them: one trial per cpus_per_trial
    threads = max(1, int(spec.cpus_per_trial))
    configs = trial_set.configs(plan.per_group)
    log(
        f"{len(configs)} main-job trials in a plain loop, then through Ray Tune + Optuna + MLflow ..."
    )
    before = loop_trials(configs, threads)
    orchestration = measure_orchestration(
        trial_set, plan.per_group, threads, plan.drift_every, before=before
    )
    job = extrapolate(spec, group_costs(spec, before, plan.per_group), data, orchestration, cores)
    job["extrapolated_minutes_interval"] = minutes_interval(
        spec, before, plan.per_group, data, orchestration, cores
    )
    if real:
        job = {**job, "extrapolated_minutes": job["main_job_minutes"], **run_main_job(log)}
    return orchestration, evaluation_share(before, plan.per_group), job


# in the order they run
SECTIONS = ("races", "match", "routine", "main-job", "memory", "capacity", "gpu")
# the trials-per-hour estimates add the study's measured overhead
SECTION_NEEDS = {"capacity": "main-job"}


def parse_only(text: str) -> tuple[str, ...]:
    """The section names of ``--only TEXT`` ("" = every section); a one-line UsageError for a
    text that names none (``--only ,``)."""
    from study.errors import UsageError

    only = tuple(name.strip() for name in text.split(",") if name.strip())
    if text.strip() and not only:
        raise UsageError(
            f"--only {text!r}: names no section; choose from {', '.join(SECTIONS)} "
            "(leave --only out to run them all)"
        )
    return only


def check_sections(only: Sequence[str]) -> tuple[str, ...]:
    """The sections ``--only`` names, in running order; a one-line UsageError for an unknown one
    or one whose input another section measures."""
    from study.errors import UsageError

    unknown = [name for name in only if name not in SECTIONS]
    if unknown:
        raise UsageError(
            f"--only {','.join(only)}: unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}"
        )
    for name, needed in SECTION_NEEDS.items():
        if name in only and needed not in only:
            raise UsageError(
                f"--only {','.join(only)}: section {name!r} needs {needed!r} too (it adds that section's "
                f"measured overhead)"
            )
    return tuple(name for name in SECTIONS if name in only) if only else SECTIONS


def run_bench(
    size: str,
    data_root: str = "",
    main_job: bool = False,
    log: Any = print,
    keep: Callable[[str, Any], None] = lambda section, value: None,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """Measure everything for ``size`` (a key of BENCH_SIZES), or the ``only`` sections of it (see
    SECTIONS); returns the JSON document, without the fields of the sections left out.
    ``keep(section, value)`` receives each section as it finishes (a long run keeps what it measured)."""
    import torch

    plan, cores, sections = BENCH_SIZES[size], cpu_cores(), check_sections(only)
    load_start = os.getloadavg()[0]
    out: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if "races" in sections:
        from bench.accuracy import measure_races

        log(f"time to accuracy, pool_cnn vs small_cnn ({plan.race_size}-size trials) ...")
        races = out["time_to_accuracy"] = measure_races(plan.race_size, plan.race_seeds, 1, log)
        keep("time_to_accuracy", races)
        values["time_to_accuracy_speedup"] = races["time_to_accuracy_speedup"]
    if "match" in sections:
        from bench.accuracy import measure_preset_match

        log("pool_cnn vs small_cnn on the small-image presets' trials ...")
        match = out["preset_match"] = measure_preset_match(
            plan.match_presets, plan.match_sizes, plan.match_seeds, 1, log
        )
        keep("preset_match", match)
        out["pool_cnn_matches_small_cnn"] = {
            f"{r['preset']}/{r['size']}": r["matches"] for r in match
        }
    if "routine" in sections:
        from bench.routine import measure_routine_speedup

        log(
            f"routine vs textbook loop vs the model's bare compute ({plan.speed_epochs} epochs of glyphs) ..."
        )
        routine = out["routine"] = measure_routine_speedup(
            {**plan.routine_data, "train.epochs": plan.speed_epochs},
            ROUTINE_THREADS,
            plan.speed_repeats,
            all_cores=cores,
        )
        keep("routine", routine)
        values["routine_share_of_ceiling"] = routine["routine_share_of_ceiling"]
        out["routine_speedup"] = routine["routine_speedup"]
    if "main-job" in sections:
        orchestration, evaluation, job = _main_job(plan, cores, main_job, log)
        keep("orchestration", orchestration), keep("evaluation", evaluation), keep("main_job", job)
        out.update(
            orchestration=orchestration,
            evaluation=evaluation,
            main_job=job,
            main_job_minutes_is_extrapolation=job["is_extrapolation"],
            **{k: orchestration[k] for k in ("ray_startup_s", "store_setup_s", "import_s")},
        )
        values.update(
            orchestration_overhead=orchestration["orchestration_overhead"],
            evaluation_share=evaluation["evaluation_share"],
            main_job_minutes=job["main_job_minutes"],
        )
    if "memory" in sections:
        from bench.memory import peak_memory_mb
        from bench.trials import smoke_trial

        log("peak memory of one smoke trial in a fresh process ...")
        memory = {"peak_memory_mb": peak_memory_mb(smoke_trial(4))}
        if plan.import_memory:
            memory["import_only_mb"] = peak_memory_mb({})
        keep("memory", memory)
        out["memory"] = {
            **memory,
            "trial": "the smoke preset's trial (digits, CE) in a fresh process; VmHWM, since "
            "ru_maxrss inherits the parent's peak across fork+exec",
        }
        values["peak_memory_mb"] = memory["peak_memory_mb"]
    if "capacity" in sections:
        from bench.capacity import estimate_trials_per_hour
        from study.presets import PRESETS

        log("trials per hour (estimates from measured epochs) ...")
        presets = list(plan.presets or PRESETS.names())
        rows = estimate_trials_per_hour(
            presets,
            plan.sizes,
            data_root,
            plan.probe_epochs,
            cores,
            out["orchestration"]["overhead_per_trial_s"],
        )
        keep("trials_per_hour_detail", rows)
        out.update(
            trials_per_hour={
                p: {r["size"]: r.get("trials_per_hour") for r in rows if r["preset"] == p}
                for p in presets
            },
            trials_per_hour_is_estimate=True,
            trials_per_hour_detail=rows,
        )
    if "gpu" in sections:
        if plan.gpu:
            from bench.device import measure_gpu

            log(
                "ResNet-20 on CIFAR-10-sized tensors on the GPU ..."
                if torch.cuda.is_available()
                else "no CUDA device: no GPU figures"
            )
            out["gpu"] = measure_gpu()
        else:
            out["gpu"] = {"skipped": f"not measured at size {size}"}
    torch.set_num_threads(cores)
    meets_targets = {k: None if v is None else meets(v, TARGETS[k]) for k, v in values.items()}
    if "eager" in out.get("gpu", {}):
        meets_targets["gpu_epoch_s"] = meets(out["gpu"]["eager"]["epoch_s"], GPU_EPOCH_TARGET)
    return {
        **values,
        **out,
        "targets": {**TARGETS, "gpu_epoch_s": GPU_EPOCH_TARGET},
        "meets_targets": meets_targets,
        "sections": list(sections),
        "machine": {
            "cpu_cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.cuda.is_available(),
            "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        },
        "size": size,
        "bench_size": asdict(plan),
    }


def bench_command(args: argparse.Namespace) -> int:
    from bench.table import format_table

    if args.json:
        check_out_file("--json", args.json)
    sections: dict[str, Any] = {}

    def keep(
        section: str, value: Any
    ) -> None:  # FILE.partial holds what finished, until FILE is written
        sections[section] = value
        if args.json:
            _write(f"{args.json}.partial", sections)

    only = parse_only(getattr(args, "only", "") or "")
    check_sections(only)  # before anything runs
    result = run_bench(
        args.size,
        getattr(args, "data_root", "") or "",
        bool(getattr(args, "main_job", False)),
        keep=keep,
        only=only,
    )
    print(format_table(result), flush=True)
    if args.json:
        _write(args.json, result)
        if os.path.exists(f"{args.json}.partial"):
            os.remove(f"{args.json}.partial")
        print(f"wrote {args.json}")
    return 0


def _write(path: str, document: dict[str, Any]) -> None:
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2, default=str)


__all__ = [
    "BENCH_SIZES",
    "SECTIONS",
    "BenchSize",
    "bench_command",
    "check_sections",
    "cpu_cores",
    "run_bench",
]
