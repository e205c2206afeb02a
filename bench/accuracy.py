"""Time to accuracy: ``pool_cnn`` against ``small_cnn`` on the same trials, and whether ``pool_cnn``
matches ``small_cnn``'s accuracy on the small-image presets' trials.

A race trains both backbones on the same data, config and seeds, alternating their order from
seed to seed (small, pool, pool, small, ...) so that load drifting over the run hits both alike.
The target is ``small_cnn``'s final validation accuracy (mean over seeds); ``pool_cnn``'s time to
it is the wall time, from the call to ``train()`` (data already loaded), to the end of the first
epoch at which its mean validation accuracy reaches the target. Both validate every epoch (the
curve needs every point), whatever the preset's ``train.validate_every``. ``time_to_accuracy_speedup`` is
``small_cnn``'s time to its own final epoch over that. The same ratio on CPU seconds (one torch
thread, so CPU seconds are what an idle core would take) is reported beside it; per-seed speedups
give the interval. If ``pool_cnn`` never reaches the target, there is no speedup: the race says so.

The preset check trains both backbones on the trials of the ``smoke`` and ``basics`` presets at
their smoke and cpu sizes (digits), every loss the preset compares, on paired seeds, and calls
``pool_cnn`` a match when the 95% interval of the paired difference in final validation accuracy
(pool - small, over all losses and seeds) lies above -``MATCH_MARGIN`` and no loss's mean
difference is below -``MATCH_MARGIN`` (a gain on one loss does not buy a loss on another).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from bench.stats import mean_interval, ratio_interval
from bench.timing import timed_trial
from trainables.config import TrialConfig
from trainables.data import load_dataset

REFERENCE, CANDIDATE = "small_cnn", "pool_cnn"
GLYPH_CLASSES = 40  # the glyph race's class count
GLYPH_SCALE = 16.0  # NormFace's constant scale in the glyph race
MATCH_MARGIN = 0.01  # pool_cnn matches if (pool - small) val accuracy is above -1 point at 95%
MATCH_CELLS: dict[str, tuple[Mapping[str, Any], ...]] = {  # the losses each preset compares
    "smoke": ({"loss.output": "ce"}, {"loss.output": "normface", "scale.start": 16.0}),
    "basics": ({"loss.output": "bce"}, {"loss.output": "ce"}, {"loss.output": "mse"}),
}


def glyph_race(size: str) -> dict[str, Any]:
    """The main job's trial at ``size`` with C = GLYPH_CLASSES (its step budget, lr drops, unseen-font
    validation), NormFace at a constant scale."""
    from study.presets import PRESETS
    from study.presets.base import MAIN_PRESET
    from study.presets.scale_vs_classes import epochs_for, lr_milestones

    epochs = epochs_for(size, GLYPH_CLASSES)
    return {
        **PRESETS.get(MAIN_PRESET).build(size, "")["base"],
        "data.num_classes": GLYPH_CLASSES,
        "train.epochs": epochs,
        "optim.lr_milestones": lr_milestones(epochs),
        "scale.schedule": "constant",
        "scale.start": GLYPH_SCALE,
    }


def digits_race(size: str) -> dict[str, Any]:
    """The smoke preset's trial at ``size`` (digits) with CE."""
    from study.presets import PRESETS

    return {**PRESETS.get("smoke").build(size, "")["base"], "loss.output": "ce"}


def _config(flat: Mapping[str, Any], model: str, seed: int, threads: int) -> TrialConfig:
    """``flat`` with ``model`` and ``seed``, validated every epoch (the curve needs every point)."""
    return TrialConfig.from_flat(
        {
            **flat,
            "model.name": model,
            "train.seed": seed,
            "train.device": "cpu",
            "train.threads": threads,
            "train.validate_every": 1,
        }
    )


def paired_runs(
    flat: Mapping[str, Any], seeds: Sequence[int], threads: int
) -> dict[str, list[dict[str, Any]]]:
    """Both backbones on ``flat`` for every seed, in alternating order, on data loaded once."""
    torch.set_num_threads(threads)
    data = load_dataset(_config(flat, REFERENCE, 0, threads).data, torch.device("cpu"))
    runs: dict[str, list[dict[str, Any]]] = {REFERENCE: [], CANDIDATE: []}
    for i, seed in enumerate(seeds):
        for model in (REFERENCE, CANDIDATE) if i % 2 == 0 else (CANDIDATE, REFERENCE):
            runs[model].append(timed_trial(_config(flat, model, seed, threads), data=data))
    return runs


def _mean_curve(runs: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [
        {
            k: sum(r["curve"][e][k] for r in runs) / len(runs)
            for k in ("wall_s", "cpu_s", "val_accuracy")
        }
        for e in range(len(runs[0]["curve"]))
    ]


def _first_reaching(curve: list[dict[str, float]], target: float) -> int | None:
    return next(
        (e for e, point in enumerate(curve) if point["val_accuracy"] >= target - 1e-9), None
    )


def race_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Time to ``small_cnn``'s final accuracy, from the runs of ``paired_runs``."""
    small, pool = _mean_curve(runs[REFERENCE]), _mean_curve(runs[CANDIDATE])
    target = small[-1]["val_accuracy"]
    reached = _first_reaching(pool, target)
    out: dict[str, Any] = {
        "target_val_accuracy": target,
        "epochs": len(small),
        "seeds": len(runs[REFERENCE]),
        "reached": reached is not None,
        "reached_at_epoch": None if reached is None else reached + 1,
        "small_cnn_s": small[-1]["wall_s"],
        "small_cnn_cpu_s": small[-1]["cpu_s"],
        "pool_cnn_total_s": pool[-1]["wall_s"],
        "pool_cnn_total_cpu_s": pool[-1]["cpu_s"],
        "pool_cnn_final_val_accuracy": pool[-1]["val_accuracy"],
        "val_accuracy_difference": mean_interval(
            [
                p["val_accuracy"] - s["val_accuracy"]
                for p, s in zip(runs[CANDIDATE], runs[REFERENCE])
            ]
        ),
        "test_accuracy_difference": mean_interval(
            [
                p["test_accuracy"] - s["test_accuracy"]
                for p, s in zip(runs[CANDIDATE], runs[REFERENCE])
            ]
        ),
        "same_epochs_time_ratio": ratio_interval(
            [s["wall_s"] / p["wall_s"] for p, s in zip(runs[CANDIDATE], runs[REFERENCE])]
        ),
        "same_epochs_cpu_ratio": ratio_interval(
            [s["cpu_s"] / p["cpu_s"] for p, s in zip(runs[CANDIDATE], runs[REFERENCE])]
        ),
        "curves": {REFERENCE: small, CANDIDATE: pool},
    }
    if reached is None:
        return {
            **out,
            "time_to_accuracy_speedup": None,
            "cpu_time_to_accuracy_speedup": None,
            "note": f"pool_cnn never reached small_cnn's final validation accuracy {target:.4f} "
            f"(its best mean: {max(p['val_accuracy'] for p in pool):.4f}): no speedup at equal accuracy",
        }
    per_seed = []
    for p, s in zip(runs[CANDIDATE], runs[REFERENCE]):
        e = _first_reaching(p["curve"], target)
        if e is not None:
            per_seed.append(s["curve"][-1]["wall_s"] / p["curve"][e]["wall_s"])
    return {
        **out,
        "pool_cnn_s": pool[reached]["wall_s"],
        "pool_cnn_cpu_s": pool[reached]["cpu_s"],
        "time_to_accuracy_speedup": small[-1]["wall_s"] / pool[reached]["wall_s"],
        "cpu_time_to_accuracy_speedup": small[-1]["cpu_s"] / pool[reached]["cpu_s"],
        "per_seed_speedup": ratio_interval(per_seed) if per_seed else None,
        "seeds_reaching_target": len(per_seed),
    }


def measure_races(
    size: str, seeds: Sequence[int], threads: int, log: Any = print
) -> dict[str, Any]:
    """The glyph (C = 40) and digits races at preset size ``size``; the headline speedup is the glyph race's."""
    out = {}
    for name, flat in (("glyphs", glyph_race(size)), ("digits", digits_race(size))):
        log(f"  race on {name}: {REFERENCE} vs {CANDIDATE}, {len(seeds)} seed(s) ...")
        out[name] = {
            "config": {
                k: v
                for k, v in flat.items()
                if k.split(".")[0] in ("data", "train", "optim", "loss", "scale")
            },
            **race_summary(paired_runs(flat, seeds, threads)),
        }
    return {
        "races": out,
        "size": size,
        "threads": threads,
        "time_to_accuracy_speedup": out["glyphs"]["time_to_accuracy_speedup"],
    }


def preset_match(preset: str, size: str, seeds: Sequence[int], threads: int) -> dict[str, Any]:
    """Paired final val accuracy of pool_cnn and small_cnn over the preset's losses and ``seeds``."""
    from study.presets import PRESETS

    base = PRESETS.get(preset).build(size, "")["base"]
    diffs, cells, ratios = [], [], []
    for cell in MATCH_CELLS[preset]:
        runs = paired_runs({**base, **cell}, seeds, threads)
        d = [
            p["val_accuracy"] - s["val_accuracy"] for p, s in zip(runs[CANDIDATE], runs[REFERENCE])
        ]
        diffs += d
        ratios += [s["wall_s"] / p["wall_s"] for p, s in zip(runs[CANDIDATE], runs[REFERENCE])]
        cells.append(
            {
                **cell,
                "small_cnn_val_accuracy": sum(r["val_accuracy"] for r in runs[REFERENCE])
                / len(seeds),
                "pool_cnn_val_accuracy": sum(r["val_accuracy"] for r in runs[CANDIDATE])
                / len(seeds),
                "difference": mean_interval(d),
            }
        )
    difference = mean_interval(diffs)
    worst = min(c["difference"]["mean"] for c in cells)
    return {
        "preset": preset,
        "size": size,
        "seeds": len(seeds),
        "dataset": base["data.name"],
        "epochs": base["train.epochs"],
        "val_accuracy_difference": difference,
        "worst_loss_difference": worst,
        "matches": difference["low"] is not None
        and difference["low"] >= -MATCH_MARGIN
        and worst >= -MATCH_MARGIN,
        "time_ratio": ratio_interval(ratios),
        "cells": cells,
    }


def measure_preset_match(
    presets: Sequence[str],
    sizes: Sequence[str],
    seeds: Sequence[int],
    threads: int,
    log: Any = print,
) -> list[dict[str, Any]]:
    rows = []
    for preset in presets:
        for size in sizes:
            log(
                f"  {preset} at {size} size: {len(MATCH_CELLS[preset])} loss(es) x {len(seeds)} seed(s) x 2 backbones ..."
            )
            rows.append(preset_match(preset, size, seeds, threads))
    return rows


__all__ = [
    "CANDIDATE",
    "MATCH_CELLS",
    "MATCH_MARGIN",
    "REFERENCE",
    "digits_race",
    "glyph_race",
    "measure_preset_match",
    "measure_races",
    "paired_runs",
    "preset_match",
    "race_summary",
]
