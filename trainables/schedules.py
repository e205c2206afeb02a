"""Softmax-scale schedules: pure functions of training progress in [0, 1].

Each schedule maps (progress, ScaleConfig, num_classes) to the scale s. Whether the schedule
spans the main phase or only an "additional training" phase is decided by ``trainables.phases``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from trainables.config import ScaleConfig
from trainables.registry import Registry

SCHEDULES: Registry[Callable[[float, ScaleConfig, int], float]] = Registry("scale schedule")


def adacos_fixed_scale(num_classes: int) -> float:
    """AdaCos's fixed scale sqrt(2) * ln(C - 1) (Zhang et al. CVPR 2019): 3.11, 6.50, 9.77 for C = 10, 100, 1000.

    C = 2 would give s = 0 (every logit equal), so C >= 3 is required.
    """
    if num_classes < 3:
        raise ValueError(
            f"AdaCos's scale sqrt(2) ln(C - 1) needs C >= 3 classes, got C={num_classes} (C=2 gives s=0)"
        )
    return math.sqrt(2.0) * math.log(num_classes - 1)


@SCHEDULES.register("constant")
def constant(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """s = start throughout."""
    return cfg.start


@SCHEDULES.register("linear")
def linear(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """Straight line from start to end (the thesis's additional-training decay)."""
    return cfg.start + (cfg.end - cfg.start) * progress


@SCHEDULES.register("step")
def step(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """start until ``switch_at``, then end (the abrupt switch of "heated-up softmax").

    In training the first batch whose progress reaches ``switch_at`` switches; for 0 < switch_at
    < 1, when ``switch_at`` times the phase's batches is whole (an epoch boundary, say) exactly
    that many batches train at start, otherwise one fewer may. ``switch_at`` 0 trains at end
    throughout the phase (the thesis's step arm of its additional training), 1 only on the
    phase's last batch.
    """
    return cfg.start if progress < cfg.switch_at else cfg.end


@SCHEDULES.register("quadratic")
def quadratic(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """Convex decay end + (start - end)(1 - p)^2: fast change at first, flat at the end."""
    return cfg.end + (cfg.start - cfg.end) * (1.0 - progress) ** 2


@SCHEDULES.register("cosine")
def cosine(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """Cosine annealing from start to end: slow at both ends, fastest in the middle."""
    return cfg.end + (cfg.start - cfg.end) * 0.5 * (1.0 + math.cos(math.pi * progress))


@SCHEDULES.register("adacos_fixed")
def adacos_fixed(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """AdaCos's fixed scale for this class count; start and end are ignored."""
    return adacos_fixed_scale(num_classes)


@SCHEDULES.register("adacos_dynamic")
def adacos_dynamic(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """The starting point of AdaCos's dynamic rule, which ``Objective(dynamic=True)`` applies once
    per training batch (``trainables.losses.adacos_scale``)."""
    return adacos_fixed_scale(num_classes)


def scale_at(progress: float, cfg: ScaleConfig, num_classes: int) -> float:
    """The scale s at ``progress`` (0 = the scheduled phase's first batch, 1 = its last; clamped)."""
    return SCHEDULES.get(cfg.schedule)(min(max(progress, 0.0), 1.0), cfg, num_classes)


__all__ = ["SCHEDULES", "adacos_fixed_scale", "scale_at"]
