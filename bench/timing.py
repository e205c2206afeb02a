"""One trial of the routine, timed: wall and CPU seconds, the evaluation's share, the accuracy curve.

The evaluation passes are timed by wrapping ``trainables.routine.evaluate`` for the length of the
run (the original is called and restored; nothing else changes). CPU seconds are this process's
(``time.process_time``): with one torch thread per trial they are what the trial would take on a
core that nothing else uses, which makes them the steadier figure on a shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trainables.config import TrialConfig
from trainables.data import DatasetBundle
from trainables.metric_names import VAL_ACCURACY


class Clock:
    """Wall and CPU seconds since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


@contextmanager
def evaluation_timer() -> Iterator[list[tuple[float, float]]]:
    """Within the block, (wall, CPU) seconds of every evaluation pass ``train()`` runs."""
    import trainables.routine as routine

    original = routine.evaluate
    passes: list[tuple[float, float]] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        clock = Clock()
        try:
            return original(*args, **kwargs)
        finally:
            passes.append(clock.read())

    routine.evaluate = timed
    try:
        yield passes
    finally:
        routine.evaluate = original


def timed_trial(
    cfg: TrialConfig, data: DatasetBundle | None = None, artifacts_dir: str | None = None
) -> dict[str, Any]:
    """``train(cfg)`` timed from the call (model construction; data loading too unless ``data`` is
    given) to its return, with per-epoch (wall, CPU, val_accuracy) since the start; the last
    epoch always validates."""
    from functools import partial

    from trainables.artifacts import write_artifacts
    from trainables.routine import train

    writer = None if artifacts_dir is None else partial(write_artifacts, directory=artifacts_dir)
    curve: list[dict[str, float | None]] = []
    clock = Clock()

    def report(metrics: dict[str, float], **_: Any) -> None:
        wall, cpu = clock.read()
        # None in an epoch that does not validate (train.validate_every)
        accuracy = metrics.get(VAL_ACCURACY)
        curve.append(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "val_accuracy": None if accuracy is None else float(accuracy),
            }
        )

    with evaluation_timer() as passes:
        final = train(cfg, report, data=data, write_artifacts=writer)
    wall, cpu = clock.read()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "eval_wall_s": sum(p[0] for p in passes),
        "eval_cpu_s": sum(p[1] for p in passes),
        "curve": curve,
        "val_accuracy": float(final[VAL_ACCURACY]),
        "test_accuracy": float(final.get("test_accuracy", float("nan"))),
    }


__all__ = ["Clock", "evaluation_timer", "timed_trial"]
