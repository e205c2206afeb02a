"""Registry of search spaces and their composition.

A space is ``space(trial, **options) -> dict`` of constants; ``options`` come from the study
(e.g. which output losses a preset compares), so one space serves several presets.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from trainables.registry import Registry

Space = Callable[..., dict[str, Any]]  # space(trial, **options) -> constants
SPACES: Registry[Space] = Registry("search space")


class ComposedSpace:
    """The named spaces applied in order, plus fixed constants; picklable, so Ray Tune can
    checkpoint the searcher that holds it and a resumed study keeps its sampler history."""

    def __init__(self, names: tuple[str, ...] | list[str], options: Mapping[str, Mapping[str, Any]] | None = None,
                 constants: Mapping[str, Any] | None = None) -> None:
        self.names = tuple(names)
        self.options = {k: dict(v) for k, v in (options or {}).items()}
        self.constants = dict(constants or {})
        for name in self.names:
            SPACES.get(name)  # fail early on an unknown name

    def __call__(self, trial: Any) -> dict[str, Any]:
        constants = dict(self.constants)
        for name in self.names:
            constants.update(SPACES.get(name)(trial, **self.options.get(name, {})) or {})
        return constants

    def __repr__(self) -> str:
        return f"ComposedSpace({'+'.join(self.names)})"


def compose(
    names: tuple[str, ...] | list[str], options: Mapping[str, Mapping[str, Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> ComposedSpace:
    """One define-by-run function that applies the named spaces in order and adds ``constants``."""
    return ComposedSpace(names, options, constants)


def space_names() -> list[str]:
    return SPACES.names()
