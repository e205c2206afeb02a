"""Registry of search spaces and their composition.

A space is ``space(trial, **options) -> dict`` of constants; ``options`` come from the study
(e.g. which output losses a preset compares), so one space serves several presets.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from trainables.registry import Registry

Space = Callable[..., dict[str, Any]]
SPACES: Registry[Space] = Registry("search space")


def compose(names: tuple[str, ...] | list[str], options: Mapping[str, Mapping[str, Any]] | None = None) -> Space:
    """One define-by-run function that applies the named spaces in order."""
    options = options or {}
    parts = [(SPACES.get(n), dict(options.get(n, {}))) for n in names]

    def space(trial: Any) -> dict[str, Any]:
        constants: dict[str, Any] = {}
        for part, kwargs in parts:
            constants.update(part(trial, **kwargs) or {})
        return constants

    space.__name__ = "+".join(names)
    return space


def space_names() -> list[str]:
    return SPACES.names()
