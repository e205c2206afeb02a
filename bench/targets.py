"""The targets ``study bench`` prints beside its measurements, and how a value is read against one."""

from __future__ import annotations

import re

TARGETS = {
    "time_to_accuracy_speedup": ">= 3.0",  # pool_cnn vs small_cnn, wall time to small_cnn's final val accuracy
    "routine_share_of_ceiling": ">= 0.9",  # the routine's images/s over the model's bare training steps
    "orchestration_overhead": "<= 1.1",  # study wall time over a plain loop, >= 20 trials of the main job
    "evaluation_share": "<= 0.10",  # evaluation's seconds over a cpu-size main-job trial's
    "main_job_minutes": "<= 20",  # the main job (scale-vs-classes, cpu size) on this machine's cores
    "peak_memory_mb": "< 1500",  # one smoke trial in a fresh process
}
GPU_EPOCH_TARGET = (
    "< 2.0"  # seconds per ResNet-20 epoch on CIFAR-10-sized tensors, H100/H200-class device
)


def meets(value: float, target: str) -> bool:
    """``value`` against a target such as ``">= 2.0"`` or ``"< 1500"``."""
    match = re.fullmatch(r"\s*(>=|<=|>|<)\s*([0-9.]+)\s*", target)
    if not match:
        raise ValueError(f"target {target!r}: expected an operator (>=, <=, >, <) and a number")
    op, bound = match.group(1), float(match.group(2))
    return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[op]


__all__ = ["GPU_EPOCH_TARGET", "TARGETS", "meets"]
