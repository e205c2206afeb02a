"""Training phases: optional CE pre-training, the main phase, optional additional training.

With additional training (the thesis's proposal, seed 002) the main phase holds the scale at
``scale.start`` and the schedule runs during the additional phase; without it the schedule
spans the main phase.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from trainables.config import TrialConfig
from trainables.schedules import scale_at


@dataclass(frozen=True)
class Phase:
    name: str  # pretrain | main | additional
    epochs: int
    scheduled: bool  # True: the scale follows the schedule over this phase's progress

    @property
    def uses_objective(self) -> bool:
        return self.name != "pretrain"


def phases_of(cfg: TrialConfig) -> list[Phase]:
    t = cfg.train
    has_additional = t.additional_epochs > 0
    phases = [
        Phase("pretrain", t.pretrain_epochs, False),
        Phase("main", t.epochs, not has_additional),
        Phase("additional", t.additional_epochs, True),
    ]
    return [p for p in phases if p.epochs > 0]


def epoch_plan(cfg: TrialConfig) -> Iterator[tuple[int, Phase, int]]:
    """(global epoch, phase, epoch within the phase) for every epoch of the trial."""
    epoch = 0
    for phase in phases_of(cfg):
        for k in range(phase.epochs):
            yield epoch, phase, k
            epoch += 1


def batch_progress(phase: Phase, epoch_in_phase: int, batch: int, n_batches: int) -> float:
    """Progress of a training batch through ``phase``: 0 on its first batch, 1 on its last, so a
    schedule trains at its start value first and at its end value last (the thesis reached the
    final scale in the last epoch). A phase of a single batch trains at its start (0).
    """
    steps = phase.epochs * n_batches
    return (epoch_in_phase * n_batches + batch) / (steps - 1) if steps > 1 else 0.0


def scale_for(cfg: TrialConfig, phase: Phase, progress: float, num_classes: int) -> float:
    """The scheduled scale at ``progress`` in [0, 1] through ``phase`` (``batch_progress`` in
    training); a phase that is not scheduled holds ``scale.start``."""
    return scale_at(progress if phase.scheduled else 0.0, cfg.scale, num_classes)
