"""Registry of search spaces and their composition."""
from __future__ import annotations

from typing import Any, Callable

from trainables.registry import Registry

Space = Callable[[Any], dict[str, Any]]
SPACES: Registry[Space] = Registry("search space")


def compose(*names: str) -> Space:
    """One define-by-run function that applies the named spaces in order."""
    parts = [SPACES.get(n) for n in names]

    def space(trial: Any) -> dict[str, Any]:
        constants: dict[str, Any] = {}
        for part in parts:
            constants.update(part(trial) or {})
        return constants

    space.__name__ = "+".join(names)
    return space


def space_names() -> list[str]:
    return SPACES.names()
