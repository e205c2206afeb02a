"""Numbers from the seed thesis and the papers, kept apart so reports can set ours beside them.

Only values stated in the seed documents are entered; a cell we do not know is ``None``, never a
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
    # Further columns of the same table: metric name -> setting -> value (None where not reported).
    extra: dict[str, dict[str, float | None]] = field(default_factory=dict)
    # Where a setting is one cell of a preset's grid: setting -> {param key: value} (e.g. search.feature).
    cells: dict[str, dict[str, str]] = field(default_factory=dict)
    # How to set ours beside each paper column: paper metric name -> (our final metric, factor to the paper's unit).
    ours: dict[str, tuple[str, float]] = field(default_factory=dict)
    # The setting every other cell is contrasted with (paired over seeds), e.g. "CE"; "" = no contrasts.
    baseline: str = ""

    def columns(self) -> dict[str, dict[str, float | None]]:
        """Every metric of the table, the main one first: metric name -> setting -> value."""
        return {self.metric: dict(self.rows), **{k: dict(v) for k, v in self.extra.items()}}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SCALE_GRID = ("1", "3", "6.5", "10", "15", "20", "30")


def _table_4_1(dataset: str, known: dict[str, float], note: str) -> PaperTable:
    rows: dict[str, float | None] = {s: known.get(s) for s in _SCALE_GRID}
    return PaperTable(
        "thesis (seed 002), Table 4.1",
        dataset,
        "Recall@1 (unseen classes)",
        "constant scale s",
        rows,
        note,
    )


# The hook for "the seed paper's tables beside ours": preset name -> the tables it reproduces.
# Fill in more cells (and more presets) only from the seeds themselves, never from memory.
PAPER_TABLES: dict[str, tuple[PaperTable, ...]] = {
    "scale-schedules": (
        _table_4_1(
            "cub200",
            {"6.5": 0.474, "20": 0.535},
            "CUB-200-2011. s=6.5 is AdaCos's value for C=100. Table 4.3: 50 epochs at s=20, then 50 "
            "epochs with s decreasing linearly to 5, adds +0.017 R@1.",
        ),
        _table_4_1(
            "cars196",
            {"6.5": 0.643, "15": 0.740},
            "Cars-196. s=6.5 is AdaCos's value for C=100. Table 4.3: the same additional training "
            "adds +0.020 R@1.",
        ),
    )
}


def _seed_000() -> PaperTable:
    """Table 1 of seed 000: CE / Center / PC, without and with Complement Entropy (CoE), CIFAR-10, ResNet-20."""
    outputs = {"": "ce", " + CoE": "complement_ce"}
    features = {"CE": "none", "Center": "center", "PC": "pc"}
    cells = {
        f"{f}{o}": {"search.output": out, "search.feature": feat}
        for o, out in outputs.items()
        for f, feat in features.items()
    }
    accuracy = {
        "CE": 95.00,
        "Center": 95.32,
        "PC": 95.21,
        "CE + CoE": 95.19,
        "Center + CoE": 95.26,
        "PC + CoE": 95.36,
    }
    silhouette = {
        "CE": 0.3773,
        "Center": 0.7896,
        "PC": 0.7877,
        "CE + CoE": 0.4653,
        "Center + CoE": 0.7928,
        "PC + CoE": 0.7924,
    }
    calinski = {
        "CE": 2666.85,
        "Center": 15588.98,
        "PC": 15218.74,
        "CE + CoE": 3363.28,
        "Center + CoE": 14269.11,
        "PC + CoE": 14280.56,
    }
    return PaperTable(
        "seed 000, Table 1",
        "cifar10",
        "test accuracy (%)",
        "losses",
        accuracy,
        "CIFAR-10, ResNet-20, 200 epochs after 100 epochs of CE. "
        "Ours: per (search.output, search.feature) cell the mean over paired seeds; accuracy x100.",
        extra={
            "Silhouette": {k: silhouette.get(k) for k in cells},
            "Calinski-Harabasz": {k: calinski.get(k) for k in cells},
        },
        cells=cells,
        ours={
            "test accuracy (%)": ("test_accuracy", 100.0),
            "Silhouette": ("test_silhouette", 1.0),
            "Calinski-Harabasz": ("test_calinski_harabasz", 1.0),
        },
        baseline="CE",
    )


ASSIGNMENT_WORDS = {"all": "all classes", "head": "head", "tail": "tail"}


def assignment_name(pc_on: str, complement_on: str) -> str:
    """Seed 001's name of a (PC, Comp) assignment, e.g. "PC on head + Comp on tail"; none/none is "CE only"."""
    parts = [
        f"{term} on {ASSIGNMENT_WORDS[where]}"
        for term, where in (("PC", pc_on), ("Comp", complement_on))
        if where != "none"
    ]
    return " + ".join(parts) or "CE only"


def _seed_001() -> PaperTable:
    """Table 1 of seed 001: where PC and Complement Entropy (Comp) act, CIFAR-100-LT with imbalance 100.

    Every (PC, Comp) assignment of the head-tail grid is a cell; the paper's numbers are entered for
    the three settings the reference digest states, the others show only ours."""
    from search_spaces.head_tail import ASSIGNMENTS

    cells = {
        assignment_name(pc, comp): {"search.pc_on": pc, "search.complement_on": comp}
        for pc in ASSIGNMENTS
        for comp in ASSIGNMENTS
    }
    known = {
        "CE only": (41.14, 69.34, 25.95),
        "PC on head + Comp on tail": (43.61, 69.95, 29.47),
        "PC on all classes": (40.35, None, None),
    }
    return PaperTable(
        "seed 001, Table 1",
        "cifar100_lt",
        "test accuracy (%)",
        "loss assignment",
        {k: known.get(k, (None,))[0] for k in cells},
        "CIFAR-100-LT, imbalance 100, ResNet-20; head = classes with >= 100 training images. "
        "PC on head + Comp on tail is the paper's best. Ours: per (search.pc_on, search.complement_on) cell "
        "the mean over paired seeds; accuracies x100.",
        extra={
            "head accuracy (%)": {k: known[k][1] if k in known else None for k in cells},
            "tail accuracy (%)": {k: known[k][2] if k in known else None for k in cells},
        },
        cells=cells,
        ours={
            "test accuracy (%)": ("test_accuracy", 100.0),
            "head accuracy (%)": ("test_head_accuracy", 100.0),
            "tail accuracy (%)": ("test_tail_accuracy", 100.0),
        },
        baseline="CE only",
    )


def _seed_003() -> PaperTable:
    """Seed 003 (basics) states which loss goes with which output layer, with no accuracies: only ours."""
    cells = {
        "BCE + sigmoid": {"loss.output": "bce"},
        "CE + softmax": {"loss.output": "ce"},
        "MSE on softmax": {"loss.output": "mse"},
    }
    return PaperTable(
        "seed 003 (no numbers: BCE+sigmoid, CE+softmax and MSE are the baseline pairs; MSE on softmax trains slower)",
        "mnist",
        "test accuracy (%)",
        "output loss",
        {k: None for k in cells},
        "The seed gives no table; ours: per output loss the mean over paired seeds, contrasted with CE + softmax.",
        cells=cells,
        ours={"test accuracy (%)": ("test_accuracy", 100.0)},
        baseline="CE + softmax",
    )


PAPER_TABLES["loss-combos"] = (_seed_000(),)
PAPER_TABLES["head-tail"] = (_seed_001(),)
PAPER_TABLES["basics"] = (_seed_003(),)


def paper_tables_for(preset: str | None) -> tuple[PaperTable, ...]:
    """The published tables a preset reproduces (empty when none are entered)."""
    return PAPER_TABLES.get(preset, ()) if preset else ()


__all__ = [
    "PAPER_TABLES",
    "PaperTable",
    "ReferenceOptimum",
    "THESIS_OPTIMA",
    "assignment_name",
    "paper_tables_for",
]
