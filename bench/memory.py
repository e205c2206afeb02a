"""Peak resident memory of one trial in a fresh Python process (``multiprocessing``'s spawn start).

On Linux, ``ru_maxrss`` survives fork + exec: a child started by a 1.3 GB bench process reports
at least 1.3 GB whatever it does. ``VmHWM`` belongs to the child's own address space, so it is
the child's true peak; ``ru_maxrss`` is the fallback where /proc is missing. The spawned child
imports only this module (and what the trial needs), from the parent's own import path.
"""

from __future__ import annotations

import multiprocessing
import resource
from typing import Any


def _peak_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _probe(flat: dict[str, Any]) -> float:
    """In the child: import the routine, train ``flat`` (nothing when empty), return the peak MiB."""
    from trainables.config import TrialConfig
    from trainables.routine import train

    if flat:
        train(TrialConfig.from_flat(flat), lambda metrics, **_: None)
    return _peak_kib() / 1024


def peak_memory_mb(flat: dict[str, Any]) -> float:
    """Peak resident memory (MiB, VmHWM) of a fresh process that runs ``train()`` on ``flat``
    ({} = imports only)."""
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return float(pool.apply(_probe, (flat,)))


__all__ = ["peak_memory_mb"]
