"""Flat config keys that moved, so configs and recorded runs that use the old key still load.

``loss.params.important_class`` became ``data.important_class``: which class's recall is reported
apart is a fact about the data, measured whatever the loss (CAMRI and its cross-entropy baseline
alike); CAMRI takes its important class from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainables.flat import ConfigError

MOVED = {"loss.params.important_class": "data.important_class"}  # old flat key -> new flat key


def renamed(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``flat`` with every old key under its new name; one line naming both when they disagree."""
    out = dict(flat)
    for old, new in MOVED.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out and not _same(out[new], value):
            raise ConfigError(
                f"{old}={value!r} and {new}={out[new]!r} disagree: {old} is the old name of {new}; set only {new}"
            )
        out.setdefault(new, value)
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


__all__ = ["MOVED", "renamed"]
