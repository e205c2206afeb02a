"""Optuna samplers and Ray Tune trial schedulers by name, seeded."""
from __future__ import annotations

from typing import Any, Callable

from trainables.registry import Registry

SAMPLERS: Registry[Callable[[int], Any]] = Registry("sampler")
SCHEDULERS: Registry[Callable[[int], Any]] = Registry("scheduler")


@SAMPLERS.register("tpe")
def tpe(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=4)


@SAMPLERS.register("random")
def random(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


@SCHEDULERS.register("asha")
def asha(max_epochs: int) -> Any:
    """Asynchronous successive halving on epochs; the grace period lets every trial see a third of training."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(time_attr="training_iteration", max_t=max_epochs, grace_period=max(1, max_epochs // 3), reduction_factor=2)


@SCHEDULERS.register("none")
def no_scheduler(max_epochs: int) -> Any:
    return None
