"""A user's own study as a YAML file with the StudySpec fields, validated with errors naming the field.

Example::

    name: my-arcface-margins
    size: cpu
    trials: 20
    base: {data.name: glyphs, data.num_classes: 40, loss.output: arcface, train.epochs: 8}
    spaces: [margin, constant_scale, lr]
    sampler: tpe

A grid study replicates every cell on paired seeds with ``seeds: 3`` (see ``StudySpec.seeds``).
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

from study.errors import UsageError
from study.spec import StudySpec
from trainables.flat import ConfigError, type_name, typed

# flags, not file fields
SET_BY_COMMAND_LINE = ("tracking_uri", "storage", "address", "optuna_storage")
CUSTOM = "custom"  # the preset of a study file, and its size unless it gives one


def load_study_file(path: str, **command_line: Any) -> StudySpec:
    import yaml

    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--config {path}: no such file")
    try:
        raw = yaml.safe_load(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--config {path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(
            f"--config {path}: malformed YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(raw, dict):
        raise UsageError(f"--config {path}: expected a mapping of study fields at the top level")
    hints = typing.get_type_hints(StudySpec)
    allowed = [f.name for f in dataclasses.fields(StudySpec) if f.name not in SET_BY_COMMAND_LINE]
    fields: dict[str, Any] = {"preset": CUSTOM, "size": CUSTOM}
    for key, value in raw.items():
        if key not in allowed:
            raise UsageError(
                f"--config {path}: unknown field {key!r}; allowed: {', '.join(allowed)}"
            )
        fields[key] = _typed(path, key, hints[key], value)
    for required in ("name", "trials", "base", "spaces"):
        if required not in fields:
            raise UsageError(f"--config {path}: missing field {required!r}")
    return StudySpec(**fields, **command_line)


def dump_study_file(spec: StudySpec) -> str:
    """The study's fields as YAML that ``load_study_file`` reads back into the same StudySpec
    (``study run --dry-run --format yaml``); the command-line fields are left to the flags."""
    import yaml

    fields = {
        f.name: _plain(getattr(spec, f.name))
        for f in dataclasses.fields(StudySpec)
        if f.name not in SET_BY_COMMAND_LINE
    }
    header = f"# study {spec.name}: `study run --config FILE` runs it (--tracking-uri, --storage, --address as flags)\n"
    return header + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    if isinstance(value, typing.Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _typed(path: str, key: str, hint: Any, value: Any) -> Any:
    """A YAML value as the StudySpec field's type (``trainables.flat.typed``); the grid's and
    groups' values as the tuples and mappings StudySpec holds."""
    if key == "groups" and isinstance(value, list) and not all(isinstance(g, dict) for g in value):
        raise UsageError(
            f"--config {path}: field 'groups' must be a list of mappings of flat config keys"
        )
    try:
        value = typed(hint, key, value)
    except ConfigError:
        raise UsageError(
            f"--config {path}: field {key!r}={value!r} has the wrong type; expected {type_name(hint)}"
        ) from None
    if key == "grid":
        return {k: tuple(v) if isinstance(v, list) else (v,) for k, v in value.items()}
    return value
