"""Optuna samplers and Ray Tune trial schedulers by name, seeded."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trainables.registry import Registry

# sampler factory: (seed, grid) -> optuna sampler; grid maps a suggested name to its values
SAMPLERS: Registry[Callable[[int, Mapping[str, Sequence[Any]]], Any]] = Registry("sampler")
SCHEDULERS: Registry[Callable[[int], Any]] = Registry("scheduler")


@SAMPLERS.register("tpe")
def tpe(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    """TPE modelling the parameters jointly (``multivariate``: scale and margin interact), and with
    ``constant_liar``: trials still running count as bad, so concurrent trials spread out instead
    of all sampling the same promising point."""
    import optuna

    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=4, multivariate=True, constant_liar=True
    )


@SAMPLERS.register("random")
def random(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


@SAMPLERS.register("cmaes")
def cmaes(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    """CMA-ES on the continuous parameters (the ``cmaes`` package); categorical ones fall back to random sampling."""
    import optuna

    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


@SAMPLERS.register("qmc")
def qmc(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    """Scrambled Sobol points: even coverage of the space for few trials."""
    import warnings

    import optuna

    # "QMCSampler is experimental": said once per group and dry run otherwise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.QMCSampler(
            qmc_type="sobol", scramble=True, seed=seed, warn_independent_sampling=False
        )


@SAMPLERS.register("grid")
def grid_sampler(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    """Every cell of ``grid`` exactly once (to fill a paper's table); the spaces must suggest exactly these names."""
    import optuna

    return optuna.samplers.GridSampler({k: list(v) for k, v in grid.items()}, seed=seed)


@SAMPLERS.register("nsga2")
def nsga2(seed: int, grid: Mapping[str, Sequence[Any]]) -> Any:
    """NSGA-II for several objectives (head vs tail accuracy; accuracy vs important-class recall)."""
    from study.genetic_sampler import PicklableNSGAIISampler

    return PicklableNSGAIISampler(seed=seed, population_size=8)


@SCHEDULERS.register("asha")
def asha(max_epochs: int) -> Any:
    """Asynchronous successive halving on epochs; the grace period lets every trial see a third of training."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        time_attr="training_iteration",
        max_t=max_epochs,
        grace_period=max(1, max_epochs // 3),
        reduction_factor=2,
    )


@SCHEDULERS.register("median")
def median_stopping(max_epochs: int) -> Any:
    """Stop a trial whose running result falls below the median of the others at the same epoch."""
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(
        time_attr="training_iteration", grace_period=max(1, max_epochs // 3), min_samples_required=3
    )


@SCHEDULERS.register("none")
def no_scheduler(max_epochs: int) -> Any:
    return None


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    size = 1
    for values in grid.values():
        size *= len(values)
    return size
