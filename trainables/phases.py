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


def scale_for(cfg: TrialConfig, phase: Phase, epoch_in_phase: float, num_classes: int) -> float:
    """The scheduled scale at a fractional epoch within ``phase``."""
    if not phase.scheduled:
        return scale_at(0.0, cfg.scale, num_classes)
    return scale_at(epoch_in_phase / phase.epochs, cfg.scale, num_classes)
