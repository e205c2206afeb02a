"""Time to accuracy: ``pool_cnn`` against ``small_cnn`` on the same trials, and whether ``pool_cnn``
matches ``small_cnn``'s accuracy on the small-image presets' trials.

A race is the way fast trainers are compared: each backbone's whole training run, schedule
included, and the accuracy it ends at. ``small_cnn`` trains the trial as given (the main job's
step budget and lr drops for the glyph race); ``pool_cnn`` trains it at ``RACE_FRACTIONS`` of its
epochs, the lr milestones scaled alike. Both on the same data and paired seeds, their order
alternated from seed to seed (small, pools, pools, small, ...) so that load drifting over the run
hits both alike, after an untimed epoch of each (the first use of its kernels). A schedule of
``pool_cnn`` reaches ``small_cnn``'s accuracy when the 95% t interval of the paired difference in
final validation accuracy (pool - small, over the seeds) lies above -``MATCH_MARGIN`` (the rule
of the preset check below). ``time_to_accuracy_speedup`` is, for the shortest schedule that
reaches it, the geometric mean over seeds of ``small_cnn``'s run time over ``pool_cnn``'s (wall
seconds from the call to ``train()``, data already loaded, to its return: training, validation,
the test report), with its t interval on the log scale; the same on CPU seconds (one torch
thread, so CPU seconds are what an idle core would take) is reported beside it. Final
accuracies, not the first epoch at which a noisy curve crosses a target: within one schedule,
both backbones reach their accuracy only after its lr drops, and a first crossing of a plateau
is noise. If no schedule reaches it, there is no speedup at equal accuracy, and the race says so.

The preset check trains both backbones on the trials of the ``smoke`` and ``basics`` presets at
their smoke and cpu sizes (digits), every loss the preset compares, on paired seeds, and calls
``pool_cnn`` a match when the 95% interval of the paired difference in final validation accuracy
(pool - small, averaged over the losses within each seed: the seed is the replicate) lies above
-``MATCH_MARGIN`` and no loss's mean difference is below -``MATCH_MARGIN`` (a gain on one loss
does not buy a loss on another).
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
# pool_cnn's schedules in a race: these fractions of the trial's epochs (each one more look: the
# shortest that passes is chosen among four, so a schedule truly 1 point worse passes at most
# about 4 x 2.5% of the time)
RACE_FRACTIONS = (1.0, 3 / 4, 1 / 2, 1 / 3)
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
    """``flat`` with ``model`` and ``seed`` on CPU with ``threads`` torch threads."""
    return TrialConfig.from_flat(
        {
            **flat,
            "model.name": model,
            "train.seed": seed,
            "train.device": "cpu",
            "train.threads": threads,
        }
    )


def shortened(flat: Mapping[str, Any], fraction: float) -> dict[str, Any]:
    """``flat`` trained for ``fraction`` of its epochs, its lr milestones scaled alike."""
    epochs = max(1, round(int(flat["train.epochs"]) * fraction))
    milestones = flat.get("optim.lr_milestones", ())
    if isinstance(milestones, str):
        milestones = [int(m) for m in milestones.split(",") if m.strip()]
    scaled = sorted({round(int(m) * fraction) for m in milestones} - {0})
    return {
        **flat,
        "train.epochs": epochs,
        "optim.lr_milestones": ",".join(str(m) for m in scaled if m < epochs),
    }


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


def race_runs(
    flat: Mapping[str, Any], seeds: Sequence[int], threads: int
) -> dict[str, dict[float, list[dict[str, Any]]]]:
    """``small_cnn`` on ``flat`` and ``pool_cnn`` at each of ``RACE_FRACTIONS`` of its epochs,
    for every seed, in alternating order, on data loaded once."""
    torch.set_num_threads(threads)
    data = load_dataset(_config(flat, REFERENCE, 0, threads).data, torch.device("cpu"))
    arms = [(REFERENCE, 1.0), *((CANDIDATE, f) for f in RACE_FRACTIONS)]
    # an untimed epoch of each backbone first: the process's first use of its kernels would
    # otherwise fall on the first seed's runs alone
    for model in (REFERENCE, CANDIDATE):
        timed_trial(
            _config({**flat, "train.epochs": 1, "optim.lr_milestones": ""}, model, 0, threads),
            data=data,
        )
    runs: dict[str, dict[float, list[dict[str, Any]]]] = {REFERENCE: {1.0: []}, CANDIDATE: {}}
    for i, seed in enumerate(seeds):
        for model, fraction in arms if i % 2 == 0 else arms[::-1]:
            cfg = _config(shortened(flat, fraction), model, seed, threads)
            runs[model].setdefault(fraction, []).append(timed_trial(cfg, data=data))
    return runs


def _schedule(small: list[dict[str, Any]], pool: list[dict[str, Any]], fraction: float) -> dict:
    """One schedule of pool_cnn against small_cnn's runs, paired by seed."""
    pairs = list(zip(pool, small))
    difference = mean_interval([p["val_accuracy"] - s["val_accuracy"] for p, s in pairs])
    return {
        "fraction": fraction,
        "epochs": len(pool[0]["curve"]),
        "pool_cnn_val_accuracy": sum(p["val_accuracy"] for p in pool) / len(pool),
        "val_accuracy_difference": difference,
        "test_accuracy_difference": mean_interval(
            [p["test_accuracy"] - s["test_accuracy"] for p, s in pairs]
        ),
        "reaches": difference["low"] is not None and difference["low"] >= -MATCH_MARGIN,
        "pool_cnn_s": sum(p["wall_s"] for p in pool) / len(pool),
        "seconds_per_seed": [[s["wall_s"], p["wall_s"]] for p, s in pairs],  # (small, pool)
        "speedup": ratio_interval([s["wall_s"] / p["wall_s"] for p, s in pairs]),
        "cpu_speedup": ratio_interval([s["cpu_s"] / p["cpu_s"] for p, s in pairs]),
    }


def race_summary(runs: dict[str, dict[float, list[dict[str, Any]]]]) -> dict[str, Any]:
    """``small_cnn``'s run against each schedule of ``pool_cnn`` (``race_runs``); the speedup is
    the shortest schedule's that reaches ``small_cnn``'s accuracy."""
    small = runs[REFERENCE][1.0]
    schedules = [_schedule(small, pool, f) for f, pool in sorted(runs[CANDIDATE].items())]
    out: dict[str, Any] = {
        "epochs": len(small[0]["curve"]),
        "seeds": len(small),
        "margin": MATCH_MARGIN,
        "small_cnn_val_accuracy": sum(s["val_accuracy"] for s in small) / len(small),
        "small_cnn_s": sum(s["wall_s"] for s in small) / len(small),
        "schedules": schedules,
    }
    reaching = [s for s in schedules if s["reaches"]]
    if not reaching:
        return {
            **out,
            "reached": False,
            "time_to_accuracy_speedup": None,
            "cpu_time_to_accuracy_speedup": None,
            "speedup": None,
            "note": "no schedule of pool_cnn reaches small_cnn's final validation accuracy "
            f"(95% interval of pool - small above -{MATCH_MARGIN:g}): no speedup at equal accuracy",
        }
    best = reaching[0]  # schedules run shortest first
    return {
        **out,
        "reached": True,
        "fraction": best["fraction"],
        "pool_cnn_epochs": best["epochs"],
        "pool_cnn_s": best["pool_cnn_s"],
        "speedup": best["speedup"],
        "time_to_accuracy_speedup": best["speedup"]["mean"],
        "cpu_time_to_accuracy_speedup": best["cpu_speedup"]["mean"],
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
            **race_summary(race_runs(flat, seeds, threads)),
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
    diffs, cells, ratios = [], [], []  # diffs: one list per loss, in seed order
    for cell in MATCH_CELLS[preset]:
        runs = paired_runs({**base, **cell}, seeds, threads)
        d = [
            p["val_accuracy"] - s["val_accuracy"] for p, s in zip(runs[CANDIDATE], runs[REFERENCE])
        ]
        diffs.append(d)
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
    # the seed is the replicate: each seed's difference averaged over the losses
    difference = mean_interval([sum(seed) / len(seed) for seed in zip(*diffs)])
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
    "RACE_FRACTIONS",
    "REFERENCE",
    "digits_race",
    "glyph_race",
    "measure_preset_match",
    "measure_races",
    "paired_runs",
    "preset_match",
    "race_runs",
    "race_summary",
    "shortened",
]
