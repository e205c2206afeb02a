"""Presets: one named study per seed experiment, each with a smoke, cpu and full size.

``smoke`` runs on two CPU cores in minutes, ``cpu`` gives a meaningful result on a laptop in
under an hour, ``full`` is the paper's protocol for a GPU cluster. At smoke and cpu sizes a
preset whose dataset is not on disk uses the built-in glyphs with the same protocol shape.
"""

# each preset module registers itself when imported
from study.presets import (
    basics,
    camri,
    head_tail,
    loss_combos,
    scale_schedules,
    scale_vs_classes,
    smoke,
)
from study.presets.base import PRESETS, SIZES, Preset, dataset_on_disk

__all__ = ["PRESETS", "SIZES", "Preset", "dataset_on_disk"]
