"""Registry of search spaces and their composition.

A space is ``space(trial, **options) -> dict`` of constants; ``options`` come from the study
(e.g. which output losses a preset compares), so one space serves several presets. ``trial``
is a ``SpaceTrial``: its ``params`` include the study's fixed values, so a space that depends on
``loss.output`` works whether the output loss is searched or fixed in the base.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trainables.registry import Registry

Space = Callable[..., dict[str, Any]]  # space(trial, **options) -> constants
SPACES: Registry[Space] = Registry("search space")


class SpaceTrial:
    """The trial as a space sees it: ``suggest_*`` go to the Optuna trial, and ``params`` holds
    the values sampled so far together with the fixed ones (the study's base, its group and the
    constants earlier spaces returned), so a space can depend on ``loss.output`` whether it is
    searched or fixed. A fixed value wins over a sampled one, as in the trial's config."""

    def __init__(self, trial: Any, fixed: Mapping[str, Any]) -> None:
        self._trial, self.fixed = trial, fixed

    @property
    def params(self) -> dict[str, Any]:
        return {**self._trial.params, **self.fixed}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


class ComposedSpace:
    """The named spaces applied in order, plus fixed constants; picklable, so Ray Tune can
    checkpoint the searcher that holds it and a resumed study keeps its sampler history."""

    def __init__(
        self,
        names: tuple[str, ...] | list[str],
        options: Mapping[str, Mapping[str, Any]] | None = None,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        self.names = tuple(names)
        self.options = {k: dict(v) for k, v in (options or {}).items()}
        self.constants = dict(constants or {})
        for name in self.names:
            SPACES.get(name)  # fail early on an unknown name

    def __call__(self, trial: Any) -> dict[str, Any]:
        constants = dict(self.constants)
        view = SpaceTrial(trial, constants)  # sees the constants as they grow
        for name in self.names:
            constants.update(SPACES.get(name)(view, **self.options.get(name, {})) or {})
        return constants

    def __repr__(self) -> str:
        return f"ComposedSpace({'+'.join(self.names)})"


def compose(
    names: tuple[str, ...] | list[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> ComposedSpace:
    """One define-by-run function that applies the named spaces in order and adds ``constants``."""
    return ComposedSpace(names, options, constants)


def space_names() -> list[str]:
    return SPACES.names()
