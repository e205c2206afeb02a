"""The flat-value codec: the one place where a value that arrives as text (a ``--set`` flag, a YAML
field, a param MLflow recorded as a string) becomes the typed value a field declares, and back.

- ``typed(hint, key, value)``: ``value`` as the declared type ``hint``: bool (``true``/``false``/
  ``1``/``0``), int (a whole number, also ``"7"`` or ``7.0``), float, str, ``tuple[X, ...]`` (a
  list, a comma string ``"20,40"`` or one number) or a mapping; otherwise ``ConfigError`` naming the key.
- ``scalar(key, value)``: a value whose type nothing declares (a loss's own parameter, a search
  label): a number, a string or a boolean, with text read as ``guess`` reads it.
- ``guess(text)``: the boolean, whole number or number the text spells, else the text itself.
- ``as_text(value)``: the text ``typed`` and ``guess`` read back (``True``, ``3``, ``0.05``,
  ``20,40``).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

Scalar = float | int | str | bool
TRUE, FALSE = ("true", "1"), ("false", "0")


class ConfigError(ValueError):
    """A configuration value that is unknown, of the wrong type or out of range."""


def typed(hint: Any, key: str, value: Any) -> Any:
    """``value`` as the declared type ``hint``; ``ConfigError`` naming ``key`` when it cannot be."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if is_number(items):  # one number: a list of one (YAML reads `lr_milestones: 5` as 5)
            items = [items]
        if not isinstance(items, (list, tuple)):
            raise _wrong(hint, key, value)
        return tuple(typed(typing.get_args(hint)[0], key, v) for v in items)
    if origin is Mapping or hint is Mapping:
        if not isinstance(value, Mapping):
            raise _wrong(hint, key, value)
        return value
    convert = CONVERTERS.get(hint)
    if convert is None:  # Any, unions, nested configs: passed as they are
        return value
    try:
        return convert(value)
    except (TypeError, ValueError):
        raise _wrong(hint, key, value) from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, str) and value.lower() in TRUE + FALSE:
        return value.lower() in TRUE
    if isinstance(value, (bool, int, float)) and value in (0, 1):
        return bool(value)
    raise ValueError


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    as_float = float(value)
    if not as_float.is_integer():
        raise ValueError
    return int(as_float)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    return float(value)


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


CONVERTERS = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


def type_name(hint: Any) -> str:
    """How an error names a declared type: ``int``, ``a list``, ``a mapping``."""
    origin = typing.get_origin(hint) or hint
    named = {tuple: "a list", Mapping: "a mapping"}
    return named.get(origin, getattr(origin, "__name__", str(hint)))


def _wrong(hint: Any, key: str, value: Any) -> ConfigError:
    return ConfigError(f"{key}={value!r} is invalid: expected {type_name(hint)}")


def guess(text: Any) -> Any:
    """The value ``text`` spells when no type is declared: ``"true"`` -> True, ``"3"`` -> 3,
    ``"0.5"`` -> 0.5, anything else unchanged (non-text values too)."""
    if not isinstance(text, str):
        return text
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def is_number(value: Any) -> bool:
    """An int or a float, not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scalar(key: str, value: Any) -> Scalar:
    """A free-form value (no declared type): a number, a string or a boolean; text as ``guess``
    reads it."""
    if isinstance(value, (bool, int, float, str)):
        return guess(value)
    raise ConfigError(f"{key}={value!r} is invalid: expected a number, a string or a boolean")


def as_text(value: Any) -> str:
    """The text of a flat value, as MLflow records it and ``typed``/``guess`` read it back."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


__all__ = ["ConfigError", "Scalar", "as_text", "guess", "is_number", "scalar", "type_name", "typed"]
