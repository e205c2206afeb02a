"""What the main job costs: its trials measured at every class count, evaluation's share of them,
and its wall time extrapolated to all its trials on this machine's cores (or measured, on request).

The extrapolation: the orchestration comparison's loop trains the main job's estimate-stage
trials (full length) at each class count C; a screen trial at C costs the same less the epochs it
does not train (the median epoch of the full trial, times the epochs cut). Each (C, seed) class
subset is rendered once, measured here from an empty data cache (the font inventory, built once
per machine, is left out and reported apart). Per trial, the study's steady overhead is added;
once per stage, Tune's start and what a fresh worker's first trial pays more; once per job, Ray's start, the imports and the store's tables (all
from bench.orchestration). Trials run ``cores // cpus_per_trial`` at a time and are assumed not to
slow each other. On CPU seconds (one torch thread per trial) the figure is what the job takes on
cores that nothing else uses; on wall seconds, what it takes under the load during the bench.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from bench.timing import Clock
from study.spec import StudySpec
from trainables.config import TrialConfig

CLASSES_KEY = "data.num_classes"


@contextmanager
def fresh_data_cache() -> Iterator[Path]:
    """A temporary ``$STUDY_CACHE_DIR`` that holds only the glyph font inventory of the current
    cache (linked), so datasets render as on a first run while the inventory does not."""
    from trainables.data.cache import CACHE_ENV, cache_dir

    inventory, previous = cache_dir() / "glyph_inventory", os.environ.get(CACHE_ENV)
    with tempfile.TemporaryDirectory(prefix="study-bench-cache-") as directory:
        if inventory.is_dir():
            os.symlink(inventory, Path(directory) / "glyph_inventory")
        os.environ[CACHE_ENV] = directory
        try:
            yield Path(directory)
        finally:
            if previous is None:
                os.environ.pop(CACHE_ENV, None)
            else:
                os.environ[CACHE_ENV] = previous


def measure_data_preparation(groups_flat: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Seconds to render each group's data from an empty cache, and to build the font inventory
    (0 when the current cache holds it)."""
    from trainables.data import load_dataset
    from trainables.data.glyphs import glyph_class_pool

    configs = [TrialConfig.from_flat(flat) for flat in groups_flat]
    with fresh_data_cache():
        clock = Clock()
        if configs[0].data.name == "glyphs":
            glyph_class_pool(max(c.data.num_classes for c in configs), configs[0].data.class_pool)
        inventory = clock.read()
        renders = []
        for cfg in configs:
            clock = Clock()
            load_dataset(cfg.data, torch.device("cpu"))
            renders.append(clock.read())
    return {
        "inventory_s": inventory[0],
        "render_s": [r[0] for r in renders],
        "render_cpu_s": [r[1] for r in renders],
    }


def _screen_cost(trial: dict[str, Any], screen_epochs: int, key: str) -> float:
    """A full trial's seconds less the epochs a screen trial does not train."""
    points = [p[key] for p in trial["curve"]]
    epochs = [b - a for a, b in zip([0.0, *points[:-1]], points)]
    middle = epochs[1:-1] or epochs
    return trial[key] - (len(epochs) - screen_epochs) * statistics.median(middle)


def group_costs(
    spec: StudySpec, trials: list[dict[str, Any]], per_group: int
) -> list[dict[str, Any]]:
    """Mean seconds (wall and CPU) of a full and of a screen trial at each class count, from the
    loop's ``trials`` (``per_group`` consecutive ones per group, in the spec's group order)."""
    from study.stages import design_of, screen_spec

    screen_groups = screen_spec(spec, design_of(spec)).groups
    rows = []
    for g, (group, screen) in enumerate(zip(spec.groups, screen_groups)):
        mine = trials[g * per_group : (g + 1) * per_group]
        mean = lambda values: sum(values) / len(values)  # noqa: E731
        rows.append(
            {
                "num_classes": int(group[CLASSES_KEY]),
                "epochs": int(group["train.epochs"]),
                "screen_epochs": int(screen["train.epochs"]),
                "trials_measured": len(mine),
                **{
                    f"trial_{k}": mean([t[k] for t in mine])
                    for k in ("wall_s", "cpu_s", "eval_wall_s", "eval_cpu_s")
                },
                **{
                    f"screen_trial_{k}": mean(
                        [_screen_cost(t, int(screen["train.epochs"]), k) for t in mine]
                    )
                    for k in ("wall_s", "cpu_s")
                },
                "val_accuracy": mean([t["val_accuracy"] for t in mine]),
            }
        )
    return rows


def evaluation_share(trials: list[dict[str, Any]], per_group: int) -> dict[str, Any]:
    """Evaluation's seconds (validation passes, the test set once at the end) over the trials'
    seconds, with the 95% interval of a bootstrap that resamples the trials within each class count
    (``per_group`` consecutive ones per group): the mix of class counts is the design's, while
    evaluation's share grows with the class count."""
    import numpy as np
    from scipy.stats import bootstrap

    evaluation = np.array([t["eval_wall_s"] for t in trials])
    wall = np.array([t["wall_s"] for t in trials])
    groups = [np.arange(g, g + per_group) for g in range(0, len(trials), per_group)]

    def share(*resampled: np.ndarray, axis: int = -1) -> np.ndarray:
        picked = np.concatenate(resampled, axis=axis).astype(int)
        return evaluation[picked].sum(axis=axis) / wall[picked].sum(axis=axis)

    interval = (float("nan"), float("nan"))
    if per_group > 1:
        # the basic (reverse percentile) interval: in simulations of 8 trials per class count the
        # percentile and BCa intervals held the true share 88-90% of the time, this one 95%
        result = bootstrap(
            groups, share, vectorized=True, n_resamples=2000, method="basic", random_state=0
        )
        interval = (float(result.confidence_interval.low), float(result.confidence_interval.high))
    return {
        "evaluation_share": float(evaluation.sum() / wall.sum()),
        "evaluation_share_interval": interval,
        "evaluation_share_cpu": sum(t["eval_cpu_s"] for t in trials)
        / sum(t["cpu_s"] for t in trials),
        "trials": len(trials),
    }


def _once_s(orchestration: dict[str, Any]) -> float:
    """What the job pays once: per stage, Tune's start and a fresh worker's first trial (the
    workers start side by side); per job, Ray's start, the imports and the store's tables."""
    return (
        2 * (orchestration["first_trial_start_s"] + orchestration.get("first_trial_extra_s", 0.0))
        + orchestration["ray_startup_s"]
        + orchestration["import_s"]
        + orchestration["store_setup_s"]
    )


def _workers(spec: StudySpec, cores: int) -> int:
    workers = max(1, int(cores // spec.cpus_per_trial))
    return min(workers, spec.max_concurrent) if spec.max_concurrent else workers


def _minutes(
    trial_work_s: Any, render_s: float, spec: StudySpec, orchestration: dict[str, Any], cores: int
) -> Any:
    """The job's minutes from the seconds its trials train (summed over every trial; an array
    gives an array) and the seconds its data take to render."""
    from study.stages import planned_trials

    per_trial = planned_trials(spec) * orchestration["steady_overhead_per_trial_s"]
    work = trial_work_s + render_s + per_trial
    return (work / _workers(spec, cores) + _once_s(orchestration)) / 60.0


def _trial_work(
    spec: StudySpec, trials: list[dict[str, Any]], per_group: int, basis: str
) -> list[Any]:
    """Per class count, what each measured trial stands for in the job: the screen trials it
    would run at that class count plus its estimate trials (a screen trial costs the full trial
    less the epochs it does not train)."""
    import numpy as np

    from study.stages import design_of, screen_spec

    design = design_of(spec)
    screens = screen_spec(spec, design).groups
    out = []
    for g, screen in enumerate(screens):
        mine = trials[g * per_group : (g + 1) * per_group]
        epochs = int(screen["train.epochs"])
        out.append(
            np.array(
                [
                    design.screen_trials * _screen_cost(t, epochs, basis)
                    + design.estimate_trials * t[basis]
                    for t in mine
                ]
            )
        )
    return out


def minutes_interval(
    spec: StudySpec,
    trials: list[dict[str, Any]],
    per_group: int,
    data: dict[str, Any],
    orchestration: dict[str, Any],
    cores: int,
) -> tuple[float, float]:
    """95% interval of the extrapolated minutes (on CPU seconds) that the scatter of the measured
    trials leaves. The minutes are linear in the class counts' mean trial costs, so the interval is
    Welch's: the sum of the means with its standard error and Welch-Satterthwaite's degrees of
    freedom (in simulated benches of 8 trials per class count it held the truth in 94.5% of 400, a
    bootstrap that resamples within class counts in 87% of 60). The machine's speed, which drifts by about 10% over minutes, is outside it. NaN with
    one trial per class count."""
    import numpy as np
    from scipy import stats

    from study.stages import design_of

    if per_group < 2:
        return float("nan"), float("nan")
    work = _trial_work(spec, trials, per_group, "cpu_s")
    variances = np.array([w.var(ddof=1) / len(w) for w in work])
    spread = sum(v**2 / (len(w) - 1) for v, w in zip(variances, work))
    dof = variances.sum() ** 2 / spread if spread > 0 else np.inf  # inf: trials without scatter
    half = float(stats.t.ppf(0.975, dof) * np.sqrt(variances.sum()))
    total = sum(float(w.mean()) for w in work)
    render_s = len(design_of(spec).seeds) * sum(data["render_cpu_s"])
    low, high = (
        float(_minutes(total + sign * half, render_s, spec, orchestration, cores))
        for sign in (-1, 1)
    )
    return low, high


def extrapolate(
    spec: StudySpec,
    costs: list[dict[str, Any]],
    data: dict[str, Any],
    orchestration: dict[str, Any],
    cores: int,
) -> dict[str, Any]:
    """Minutes for every trial of the main job, on CPU seconds and on wall seconds."""
    from study.stages import design_of, planned_trials

    design = design_of(spec)

    def minutes(basis: str, render_key: str) -> float:
        work = sum(
            design.screen_trials * c[f"screen_trial_{basis}"]
            + design.estimate_trials * c[f"trial_{basis}"]
            for c in costs
        )
        render = len(design.seeds) * sum(data[render_key])
        return float(_minutes(work, render, spec, orchestration, cores))

    return {
        "main_job_minutes": minutes("cpu_s", "render_cpu_s"),
        "main_job_minutes_wall_basis": minutes("wall_s", "render_s"),
        "is_extrapolation": True,
        "trials": planned_trials(spec),
        "screen_trials_per_class_count": design.screen_trials,
        "estimate_trials_per_class_count": design.estimate_trials,
        "class_counts": list(design.class_counts),
        "concurrent_trials": _workers(spec, cores),
        "threads_per_trial": max(1, int(spec.cpus_per_trial)),
        "once_s": _once_s(orchestration),
        "overhead_per_trial_s": orchestration["steady_overhead_per_trial_s"],
        "data_preparation": data,
        "per_class_count": costs,
    }


def run_main_job(log: Any = print, extra: Sequence[str] = ()) -> dict[str, Any]:
    """``study run`` (the main job at its default size; ``extra`` flags such as ``--size smoke``)
    for real, into a temporary store and an empty data cache; its wall minutes."""
    from study.cli import main

    log("the main job for real (`study run`, every trial) ...")
    with (
        tempfile.TemporaryDirectory(prefix="study-bench-main-job-") as directory,
        fresh_data_cache(),
    ):
        clock = Clock()
        code = main(
            [
                "run",
                "--tracking-uri",
                f"sqlite:///{directory}/mlflow.db",
                "--storage",
                f"{directory}/results",
                *extra,
            ]
        )
        wall, _ = clock.read()
    return {"main_job_minutes": wall / 60.0, "exit_code": code, "is_extrapolation": False}


__all__ = [
    "evaluation_share",
    "extrapolate",
    "fresh_data_cache",
    "group_costs",
    "measure_data_preparation",
    "minutes_interval",
    "run_main_job",
]
