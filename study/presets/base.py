"""The preset registry and the dataset fallback shared by the presets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainables.registry import Registry

SIZES = ("smoke", "cpu", "full")
DEFAULT_SIZE = "cpu"
MAIN_PRESET = "scale-vs-classes"  # what `study run` runs with no --preset: the README's main job

# where each on-disk dataset's loader looks under data.root (see trainables/data)
ON_DISK_LAYOUT = {
    "mnist": "MNIST/raw",
    "fashion_mnist": "FashionMNIST/raw",
    "cifar10": "cifar-10-batches-py",
    "cifar10_lt": "cifar-10-batches-py",
    "cifar100": "cifar-100-python",
    "cifar100_lt": "cifar-100-python",
    "cub200": "CUB_200_2011",
    "cars196": "cars196",
}


@dataclass(frozen=True)
class Preset:
    summary: str  # one line for `study presets`
    build: Callable[[str, str], dict[str, Any]]  # (size, data_root) -> StudySpec fields
    default_size: str = DEFAULT_SIZE  # the size `study run --preset NAME` uses without --size
    departures: Callable[[str], str] | None = (
        None  # size -> what this size changes from the paper, and why
    )


PRESETS: Registry[Preset] = Registry("preset")


def dataset_on_disk(name: str, data_root: str) -> bool:
    layout = ON_DISK_LAYOUT.get(name)
    return layout is None or (bool(data_root) and (Path(data_root) / layout).exists())


def data_for(
    name: str, size: str, data_root: str, glyph_classes: int, extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    """The dataset's flat config, or the glyphs at smoke/cpu size when it is not on disk (with a note)."""
    if size == "full" or dataset_on_disk(name, data_root):
        return {"data.name": name, "data.root": data_root, **(extra or {})}, ""
    note = f" [{name} not found under data root {data_root or '(none)'}: using the built-in glyphs, {glyph_classes} classes]"
    return {"data.name": "glyphs", "data.num_classes": glyph_classes, **(extra or {})}, note


def sized(
    size: str, full: Mapping[str, Any], smaller: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A preset's settings at ``size``, the way airbench keeps one ``hyp`` dict: ``full`` holds the
    full size (the paper's protocol) and ``smaller`` what the smoke and cpu sizes change, each
    value with its reason beside it. An override must name a setting of ``full``, so a misspelt
    one fails here instead of being ignored."""
    if size not in SIZES:
        raise KeyError(f"size {size!r} is unknown; sizes are: {', '.join(SIZES)}")
    changes = {} if size == "full" else smaller.get(size, {})
    unknown = sorted(set(changes) - set(full))
    if unknown:
        missing = ", ".join(unknown)
        raise KeyError(f"size {size!r} overrides settings the full size lacks: {missing}")
    return {**full, **changes}
