"""How many trials fit in an hour: trials per hour of every preset's sizes, estimated from
measured epoch times.

The estimate: one probe per (model, dataset, image size, batch size) trains ``probe_epochs``
epochs of the trial's own config restricted to the smoke size's classes and images per class,
with one trial's threads; its last epoch gives seconds per unit of work, where a unit is one
training image and an evaluated image counts a third of one (forward only; validation every
epoch, the test set once after the last). A trial at any size then costs its units times the
seconds per unit, plus its measured data loading, plus the per-trial orchestration overhead
measured by the bench; a study's trials are those ``study run`` plans (paired seeds and staged
designs included, every trial at full length). Searched loss
terms (a second COT update, extra terms) are not included, and concurrent trials are assumed
not to slow each other: treat the figures as an estimate, not a measurement.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from trainables.config import TrialConfig
from trainables.data import DatasetError, load_dataset
from trainables.routine import train

# an evaluated image costs about a third of a trained one (forward, no backward/step)
EVAL_COST = 1 / 3


def _units(bundle: Any) -> float:
    """Work of one epoch: its training images and, at EVAL_COST each, its validation images."""
    return len(bundle.train) + EVAL_COST * len(bundle.val)


def _test_units(bundle: Any) -> float:
    """Work of the test set, evaluated once after the last epoch."""
    return EVAL_COST * len(bundle.test)


def _load(cfg: TrialConfig) -> tuple[Any, float]:
    started = time.perf_counter()
    bundle = load_dataset(cfg.data, torch.device("cpu"))
    return bundle, time.perf_counter() - started


class Probes:
    """Seconds per unit of work, measured once per (model, embedding, dataset, image size)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.seconds_per_unit: dict[tuple, float] = {}

    def get(self, probe: TrialConfig, threads: int) -> float:
        key = (
            probe.model.name,
            probe.model.embedding_dim,
            probe.data.name,
            probe.data.image_size,
            probe.train.batch_size,
        )
        if key not in self.seconds_per_unit:
            cfg = probe.replace(
                train__epochs=self.epochs,
                train__pretrain_epochs=0,
                train__additional_epochs=0,
                train__threads=threads,
                train__device="cpu",
            )
            bundle, _ = _load(cfg)
            times: list[float] = []
            train(cfg, lambda metrics, **_: times.append(metrics["epoch_time_s"]), data=bundle)
            # the last epoch tests too
            self.seconds_per_unit[key] = times[-1] / (_units(bundle) + _test_units(bundle))
        return self.seconds_per_unit[key]


def _configs(spec: dict[str, Any]) -> list[TrialConfig]:
    return [TrialConfig.from_flat({**spec["base"], **group}) for group in spec.get("groups", ({},))]


def _planned_trials(name: str, size: str, fields: dict[str, Any]) -> int:
    from study.spec import StudySpec
    from study.stages import planned_trials

    return planned_trials(StudySpec(name=f"{name}-{size}", preset=name, size=size, **fields))


def estimate_preset(
    name: str, size: str, data_root: str, probes: Probes, cores: int, overhead_per_trial_s: float
) -> dict[str, Any]:
    """One row: trials per hour of preset ``name`` at ``size``, or a note on why it was skipped."""
    from study.errors import UsageError
    from study.presets import PRESETS, dataset_on_disk

    preset = PRESETS.get(name)
    row: dict[str, Any] = {"preset": name, "size": size}
    try:  # a size that needs files this machine lacks (pretrained weights) says so on building
        spec, smoke = preset.build(size, data_root), preset.build("smoke", data_root)
    except (UsageError, DatasetError) as exc:
        return {**row, "skipped": str(exc)}
    configs = _configs(spec)
    missing = sorted({c.data.name for c in configs if not dataset_on_disk(c.data.name, data_root)})
    if missing:
        return {
            **row,
            "skipped": f"{', '.join(missing)} not on disk under data root {data_root or '(none)'}",
        }
    cpus = float(spec.get("cpus_per_trial", 1.0))
    threads, concurrency = max(1, int(cpus)), max(1, int(cores // cpus))
    trial_s = []
    smoke_data = _configs(smoke)[0].data
    for cfg in configs:
        probe = (
            cfg  # the trial itself (model, image size, batch, loss) on the smoke size's few images
        )
        if smoke_data.name == cfg.data.name:
            probe = cfg.replace(
                data__num_classes=smoke_data.num_classes,
                data__max_per_class=smoke_data.max_per_class,
            )
        try:
            seconds_per_unit = probes.get(probe, threads)
            bundle, load_s = _load(cfg)
        except DatasetError as exc:
            return {**row, "skipped": str(exc)}
        work = _units(bundle) * cfg.train.total_epochs + _test_units(bundle)
        trial_s.append(work * seconds_per_unit + load_s + overhead_per_trial_s)
    mean_trial_s = sum(trial_s) / len(trial_s)
    plain_s = mean_trial_s - overhead_per_trial_s  # the same trial in a plain loop
    per_hour = concurrency * 3600.0 / mean_trial_s
    total = _planned_trials(name, size, spec)
    return {
        **row,
        "trials_per_hour": per_hour,
        "trial_s": mean_trial_s,
        "trials": total,
        "study_hours": total / per_hour,
        "epochs_per_trial": max(c.train.total_epochs for c in configs),
        "model": configs[0].model.name,
        "dataset": configs[0].data.name,
        "threads_per_trial": threads,
        "concurrent_trials": concurrency,
        "projected_orchestration_overhead": mean_trial_s / plain_s,
    }


def estimate_trials_per_hour(
    presets: list[str],
    sizes: tuple[str, ...],
    data_root: str,
    probe_epochs: int,
    cores: int,
    overhead_per_trial_s: float,
) -> list[dict[str, Any]]:
    """Rows of ``estimate_preset`` for every preset and size, probes shared between them."""
    probes = Probes(probe_epochs)
    return [
        estimate_preset(p, s, data_root, probes, cores, overhead_per_trial_s)
        for p in presets
        for s in sizes
    ]


__all__ = ["EVAL_COST", "Probes", "estimate_preset", "estimate_trials_per_hour"]
