"""Softmax-scale schedules: pure functions of training progress in [0, 1]."""
from __future__ import annotations

import math
from typing import Callable

from trainables.config import ScaleConfig
from trainables.registry import Registry

SCHEDULES: Registry[Callable[[float, ScaleConfig, int], float]] = Registry("scale schedule")


def adacos_fixed_scale(num_classes: int) -> float:
    """AdaCos's fixed scale sqrt(2) * ln(C - 1) (Zhang et al. CVPR 2019)."""
    return math.sqrt(2.0) * math.log(num_classes - 1)


@SCHEDULES.register("constant")
def constant(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    return cfg.start


@SCHEDULES.register("linear")
def linear(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    return cfg.start + (cfg.end - cfg.start) * progress


def scale_at(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """The scale s at ``progress`` (0 = start of the scheduled phase, 1 = its end)."""
    return SCHEDULES.get(cfg.schedule)(min(max(progress, 0.0), 1.0), cfg, num_classes)
