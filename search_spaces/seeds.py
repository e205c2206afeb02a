"""Paired seeds: replicate every cell of a design on the same seeds.

A seed is a block: it sets both ``train.seed`` (initialisation, data order, augmentation) and
``data.subset_seed`` (which classes a class subset draws, and the long tail's image choice), so
two cells compared on seed k differ only in what the cells differ in. With the grid sampler the
seeds are a grid axis (``grid={"train.seed": (0, 1, 2), ...}``): every cell runs on every seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_spaces.registry import SPACES

SEED_KEY = "train.seed"


@SPACES.register("seeds")
def seeds(trial: Any, seeds: Sequence[int] = (0, 1, 2), subset: bool = True) -> dict[str, Any]:
    """One of ``seeds`` as ``train.seed``; the class subset follows it (``data.subset_seed``) unless
    ``subset`` is False: a baseline arm compared with searched trials keeps their class subset."""
    seed = int(trial.suggest_categorical(SEED_KEY, [int(s) for s in seeds]))
    return {"data.subset_seed": seed} if subset else {}
