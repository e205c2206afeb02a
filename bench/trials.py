"""The trial configs ``study bench`` runs: the smoke preset's digits trial and a trial of the
README's main job, and the sets of them that the orchestration comparison searches over."""
from __future__ import annotations

from typing import Any, Callable

from study.bench_orchestration import TrialSet
from study.presets import PRESETS
from study.presets.base import DEFAULT_SIZE, MAIN_PRESET


def smoke_trial(epochs: int) -> dict[str, Any]:
    """The smoke preset's fixed trial config (digits, small CNN) with ``epochs`` epochs and CE."""
    base = dict(PRESETS.get("smoke").build("smoke", "")["base"])
    return {**base, "train.epochs": epochs, "loss.output": "ce", "train.device": "cpu"}


def main_job_trial(epochs: int = 0) -> dict[str, Any]:
    """A trial of the README's main job (the default preset at the default size) at its smallest
    class count, with a constant scale; ``epochs`` > 0 overrides the preset's."""
    built = PRESETS.get(MAIN_PRESET).build(DEFAULT_SIZE, "")
    flat = {**built["base"], **built["groups"][0], "scale.schedule": "constant", "train.device": "cpu"}
    return {**flat, "train.epochs": epochs} if epochs else flat


def _smoke_set(epochs: int) -> TrialSet:
    return TrialSet("the smoke preset's trial (digits, small CNN, CE), learning rates", smoke_trial(epochs or 4),
                    "lr", "optim.lr", 0.01, 0.1)


def _main_job_set(epochs: int) -> TrialSet:
    base = main_job_trial(epochs)
    return TrialSet(f"the main job's trial ({MAIN_PRESET} {DEFAULT_SIZE}, C={base['data.num_classes']}), constant scales",
                    base, "constant_scale", "scale.start", 4.0, 32.0)


TRIAL_SETS: dict[str, Callable[[int], TrialSet]] = {"smoke": _smoke_set, "main-job": _main_job_set}


__all__ = ["TRIAL_SETS", "main_job_trial", "smoke_trial"]
