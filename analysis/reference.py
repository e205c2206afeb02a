"""Numbers from the seed thesis and the papers, kept apart so reports can set ours beside them.

Only values stated in ``REFERENCE.md`` are entered; a cell we do not know is ``None``, never a
guess. Seed 002 (the softmax-scale thesis) trains SoftTriple on the first half of the classes of
CUB-200-2011 (100 classes) and Cars-196 (98 classes) and reports Recall@1 on the unseen half.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReferenceOptimum:
    """A measured optimum scale from the literature, drawn beside our s*(C)."""

    source: str  # who measured it
    dataset: str
    num_classes: int  # classes the loss saw in training
    scale: float  # the best constant scale s of the grid that was tried
    metric: str  # what "best" was measured by
    value: float  # that metric at the best scale


THESIS_OPTIMA: tuple[ReferenceOptimum, ...] = (
    # Table 4.1 of seed 002: best constant s on the grid {1, 3, 6.5, 10, 15, 20, 30}.
    ReferenceOptimum("thesis (seed 002), Table 4.1", "CUB-200-2011", 100, 20.0, "Recall@1", 0.535),
    # Cars-196 split by class leaves 98 training classes ("C = 100" in round numbers).
    ReferenceOptimum("thesis (seed 002), Table 4.1", "Cars-196", 98, 15.0, "Recall@1", 0.740),
)


@dataclass(frozen=True)
class PaperTable:
    """A published results table: metric per setting, with None where the value is not known here."""

    source: str
    dataset: str  # our dataset registry name (``data.name``)
    metric: str
    column: str  # what the settings are (e.g. "constant scale s")
    rows: dict[str, float | None] = field(default_factory=dict)  # setting -> metric value
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SCALE_GRID = ("1", "3", "6.5", "10", "15", "20", "30")


def _table_4_1(dataset: str, known: dict[str, float], note: str) -> PaperTable:
    rows: dict[str, float | None] = {s: known.get(s) for s in _SCALE_GRID}
    return PaperTable("thesis (seed 002), Table 4.1", dataset, "Recall@1 (unseen classes)", "constant scale s", rows, note)


# The hook for "the seed paper's tables beside ours": preset name -> the tables it reproduces.
# Fill in more cells (and more presets) only from the seeds themselves, never from memory.
PAPER_TABLES: dict[str, tuple[PaperTable, ...]] = {
    "scale-schedules": (
        _table_4_1("cub200", {"6.5": 0.474, "20": 0.535},
                   "CUB-200-2011. s=6.5 is AdaCos's value for C=100. Table 4.3: 50 epochs at s=20, then 50 "
                   "epochs with s decreasing linearly to 5, adds +0.017 R@1."),
        _table_4_1("cars196", {"6.5": 0.643, "15": 0.740},
                   "Cars-196. s=6.5 is AdaCos's value for C=100. Table 4.3: the same additional training "
                   "adds +0.020 R@1."),
    ),
}


def paper_tables_for(preset: str | None) -> tuple[PaperTable, ...]:
    """The published tables a preset reproduces (empty when none are entered)."""
    return PAPER_TABLES.get(preset, ()) if preset else ()


__all__ = ["PAPER_TABLES", "PaperTable", "ReferenceOptimum", "THESIS_OPTIMA", "paper_tables_for"]
