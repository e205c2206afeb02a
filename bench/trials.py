"""The trial configs ``study bench`` runs: the smoke preset's digits trial, the main job's study
and its trials per class count, and the sets of them that the orchestration comparison searches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.orchestration import TrialSet
from study.presets import PRESETS
from study.presets.base import DEFAULT_SIZE, MAIN_PRESET

SCALE_GRID = (4.0, 32.0)  # the constant scales the orchestration comparison spreads over each group


def smoke_trial(epochs: int) -> dict[str, Any]:
    """The smoke preset's fixed trial config (digits) with ``epochs`` epochs and CE."""
    base = dict(PRESETS.get("smoke").build("smoke", "")["base"])
    return {**base, "train.epochs": epochs, "loss.output": "ce", "train.device": "cpu"}


def main_job_spec(size: str = DEFAULT_SIZE):
    """The StudySpec ``study run`` builds for the main job (the default preset) at ``size``."""
    from study.spec import StudySpec

    return StudySpec(
        name=f"{MAIN_PRESET}-{size}",
        preset=MAIN_PRESET,
        size=size,
        **PRESETS.get(MAIN_PRESET).build(size, ""),
    )


def main_job_base(size: str = DEFAULT_SIZE) -> dict[str, Any]:
    """The main job's fixed trial values, with a constant scale (the preset's searched key)."""
    return {**main_job_spec(size).base, "scale.schedule": "constant", "train.device": "cpu"}


def _smoke_set(size: str) -> TrialSet:
    return TrialSet(
        "the smoke preset's trial (digits, CE), learning rates",
        smoke_trial(4),
        "lr",
        "optim.lr",
        0.01,
        0.1,
    )


def _main_job_set(size: str) -> TrialSet:
    """The main job's estimate-stage trials (full length) at each of its class counts."""
    spec = main_job_spec(size)
    counts = [g["data.num_classes"] for g in spec.groups]
    return TrialSet(
        f"the main job's trials ({MAIN_PRESET} {size}, C = {', '.join(map(str, counts))}, "
        f"{spec.base['model.name']}), constant scales",
        main_job_base(size),
        "constant_scale",
        "scale.start",
        *SCALE_GRID,
        groups=tuple(dict(g) for g in spec.groups),
    )


TRIAL_SETS: dict[str, Callable[[str], TrialSet]] = {"smoke": _smoke_set, "main-job": _main_job_set}


__all__ = ["SCALE_GRID", "TRIAL_SETS", "main_job_base", "main_job_spec", "smoke_trial"]
