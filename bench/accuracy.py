"""Time to accuracy: ``pool_cnn`` against ``small_cnn`` on the same trials, and whether ``pool_cnn``
matches ``small_cnn``'s accuracy on the small-image presets' trials.

A race trains both backbones on the same data, config and seeds, alternating their order from
seed to seed (small, pool, pool, small, ...) so that load drifting over the run hits both alike.
On each seed the target is ``small_cnn``'s final validation accuracy on that seed less
``RACE_TOLERANCE`` (equal accuracy within the bench's match margin), and each backbone's time to
it is the wall time, from the call to ``train()`` (data already loaded), to the end of the first
epoch whose validation accuracy reaches it: one rule for both, so a noisy curve's early first
crossing favours neither. Both validate every epoch (the curve needs every point), whatever the
preset's ``train.validate_every``. ``time_to_accuracy_speedup`` is the geometric mean over seeds
of ``small_cnn``'s time over ``pool_cnn``'s, with its t interval on the log scale (paired by
seed); the same on CPU seconds (one torch thread, so CPU seconds are what an idle core would
take) is reported beside it. In simulations with a known speedup (identical accuracy curves,
noise of 0.4 to 1 point per epoch, 4 seeds) its median was the truth and its interval held it in
93-98% of races. If ``pool_cnn`` misses the target on any seed, there is no speedup at equal
accuracy: the race says on how many seeds it got there.

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
RACE_TOLERANCE = MATCH_MARGIN  # a race's target: small_cnn's final val accuracy less this
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


def _seed_race(small: dict[str, Any], pool: dict[str, Any]) -> dict[str, Any]:
    """One seed: both backbones' first epoch at small_cnn's final accuracy less the tolerance."""
    target = small["curve"][-1]["val_accuracy"] - RACE_TOLERANCE
    s, p = _first_reaching(small["curve"], target), _first_reaching(pool["curve"], target)
    assert s is not None  # its own last epoch reaches it
    return {
        "target_val_accuracy": target,
        "small_cnn_epoch": s + 1,
        "small_cnn_s": small["curve"][s]["wall_s"],
        "small_cnn_cpu_s": small["curve"][s]["cpu_s"],
        "pool_cnn_epoch": None if p is None else p + 1,
        "pool_cnn_s": None if p is None else pool["curve"][p]["wall_s"],
        "pool_cnn_cpu_s": None if p is None else pool["curve"][p]["cpu_s"],
    }


def race_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Time to ``small_cnn``'s final accuracy (less ``RACE_TOLERANCE``) on each seed, from the
    runs of ``paired_runs``."""
    seeds = [_seed_race(s, p) for s, p in zip(runs[REFERENCE], runs[CANDIDATE])]
    reaching = [r for r in seeds if r["pool_cnn_epoch"] is not None]
    mean = lambda key, rows: sum(r[key] for r in rows) / len(rows)  # noqa: E731
    pairs = list(zip(runs[CANDIDATE], runs[REFERENCE]))
    out: dict[str, Any] = {
        "target_val_accuracy": mean("target_val_accuracy", seeds),
        "tolerance": RACE_TOLERANCE,
        "epochs": len(runs[REFERENCE][0]["curve"]),
        "seeds": len(seeds),
        "seeds_reaching_target": len(reaching),
        "reached": len(reaching) == len(seeds),
        "per_seed": seeds,
        "small_cnn_s": mean("small_cnn_s", seeds),
        "small_cnn_cpu_s": mean("small_cnn_cpu_s", seeds),
        "small_cnn_final_val_accuracy": mean("val_accuracy", runs[REFERENCE]),
        "pool_cnn_total_s": mean("wall_s", runs[CANDIDATE]),
        "pool_cnn_total_cpu_s": mean("cpu_s", runs[CANDIDATE]),
        "pool_cnn_final_val_accuracy": mean("val_accuracy", runs[CANDIDATE]),
        "val_accuracy_difference": mean_interval(
            [p["val_accuracy"] - s["val_accuracy"] for p, s in pairs]
        ),
        "test_accuracy_difference": mean_interval(
            [p["test_accuracy"] - s["test_accuracy"] for p, s in pairs]
        ),
        "same_epochs_time_ratio": ratio_interval([s["wall_s"] / p["wall_s"] for p, s in pairs]),
        "same_epochs_cpu_ratio": ratio_interval([s["cpu_s"] / p["cpu_s"] for p, s in pairs]),
        "curves": {
            REFERENCE: _mean_curve(runs[REFERENCE]),
            CANDIDATE: _mean_curve(runs[CANDIDATE]),
        },
    }
    if len(reaching) < len(seeds):
        return {
            **out,
            "time_to_accuracy_speedup": None,
            "cpu_time_to_accuracy_speedup": None,
            "speedup": None,
            "note": f"pool_cnn reached small_cnn's final validation accuracy (less {RACE_TOLERANCE:g}) on "
            f"{len(reaching)} of {len(seeds)} seeds: no speedup at equal accuracy",
        }
    speedup = ratio_interval([r["small_cnn_s"] / r["pool_cnn_s"] for r in seeds])
    return {
        **out,
        "pool_cnn_s": mean("pool_cnn_s", seeds),
        "pool_cnn_cpu_s": mean("pool_cnn_cpu_s", seeds),
        "time_to_accuracy_speedup": speedup["mean"],
        "speedup": speedup,
        "cpu_time_to_accuracy_speedup": ratio_interval(
            [r["small_cnn_cpu_s"] / r["pool_cnn_cpu_s"] for r in seeds]
        )["mean"],
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
    "RACE_TOLERANCE",
    "REFERENCE",
    "digits_race",
    "glyph_race",
    "measure_preset_match",
    "measure_races",
    "paired_runs",
    "preset_match",
    "race_summary",
]
