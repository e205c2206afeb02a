"""The stages of a study: one for a plain study, a screen and an estimate for a staged design.

A plain study is one stage: its spec as it is, its trials tagged with nothing extra. A study
whose spec carries a ``design`` (search_spaces.scale_design.ScaleDesign, as a dict) runs two
stages in turn, each a study of its own in Ray Tune and Optuna (``<storage>/<name>/screen``,
``<storage>/<name>/estimate``), recorded under the same MLflow parent run, every trial tagged
with its ``stage``:

1. screen: per class count, ``design.screen_scales`` on ``design.screen_seed`` with
   ``design.screen_fraction`` of each group's epochs (low fidelity);
2. estimate: per class count, ``design.window(centre)`` x ``design.seeds`` with the full epochs,
   the window's centre placed by ``screen_centre`` on the screen's results of that class count.

The windows are written to ``<storage>/<name>/windows.json`` when first placed, so a resumed study
estimates on the same windows. The analysis never mixes the stages (the ``stage`` tag).

More seeds for a finished study: ``study resume NAME --seeds N`` raises ``design.seeds`` to 0..N-1
and runs the seeds no estimate batch has as one more batch (``<storage>/<name>/estimate.from<k>``,
k its first seed) on the same windows and at the same fidelity, tagged ``stage=estimate`` like the
first: the same cells on more blocks, so the analysis pools them. The batches and their seeds are
recorded in ``<storage>/<name>/estimate_batches.json`` when planned, so a resume runs the same ones.

A study with a ``baseline`` arm (camri: cross-entropy beside the CAMRI search) then runs that arm as
a stage of its own (``<storage>/<name>/baseline``): the baseline's values over the study's base, on
each of ``spec.baseline_seeds`` once per group (a grid over ``train.seed``, on the class subset of the
searched trials), every trial tagged ``arm=baseline`` so the analysis sets it apart from the searched
trials.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from search_spaces.scale_design import ESTIMATE, SCREEN, ScaleDesign, screen_centre
from search_spaces.seeds import SEED_KEY
from study.spec import StudySpec, study_dir

SCALE_KEY, CLASSES_KEY = "scale.start", "data.num_classes"
WINDOWS_FILE = "windows.json"
# an estimate batch of the seeds a resume added: ``estimate.from<first seed>`` (see next_stage)
MORE_SEEDS = ".from"
BATCHES_FILE = "estimate_batches.json"  # the estimate batches planned so far and their seeds
BASELINE = "baseline"  # the baseline arm's stage, and its trials' ``arm`` tag


@dataclass(frozen=True)
class Stage:
    name: str  # "" for a plain study, else screen | estimate
    spec: StudySpec  # the stage's own study: its groups, grids, trials
    tags: Mapping[str, str]  # added to every trial run of the stage

    @property
    def storage_path(self) -> str:
        """Where Ray Tune keeps this stage's state."""
        return study_dir(self.spec) if not self.name else f"{study_dir(self.spec)}/{self.name}"

    @property
    def optuna_prefix(self) -> str:
        return self.spec.name if not self.name else f"{self.spec.name}.{self.name}"


def design_of(spec: StudySpec) -> ScaleDesign | None:
    if not spec.design:
        return None
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(spec.design).items()}
    return ScaleDesign(**fields)


def next_stage(spec: StudySpec, done: Mapping[str, list[dict[str, Any]]]) -> Stage | None:
    """The stage to run after those in ``done`` (stage name -> its trials' results), or None."""
    design = design_of(spec)
    if design is None:
        if "" not in done:
            return Stage("", spec, {})
        if spec.baseline and BASELINE not in done:
            return Stage(BASELINE, baseline_spec(spec), {"arm": BASELINE})
        return None
    if SCREEN not in done:
        return Stage(SCREEN, screen_spec(spec, design), {"stage": SCREEN})
    windows = load_windows(spec) or place_windows(spec, design, done[SCREEN])
    batches = load_batches(spec)
    waiting = [name for name in batches if name not in done]
    if not waiting:  # every recorded batch ran: one more for the seeds none of them ran, if any
        ran = {s for seeds in batches.values() for s in seeds}
        added = tuple(s for s in design.seeds if s not in ran)
        if not added:
            return None
        waiting = [ESTIMATE if not batches else f"{ESTIMATE}{MORE_SEEDS}{added[0]}"]
        batches[waiting[0]] = added
        save_batches(spec, batches)
    name = waiting[0]
    batch = replace(design, seeds=batches[name])
    return Stage(name, estimate_spec(spec, batch, windows), {"stage": ESTIMATE})


def planned_trials(spec: StudySpec) -> int:
    design = design_of(spec)
    if design is None:
        return (spec.trials + len(spec.baseline_seeds)) * len(spec.groups)
    return (design.screen_trials + design.estimate_trials) * len(spec.groups)


def describe(spec: StudySpec) -> dict[str, Any]:
    """The staged design as the dry run prints it."""
    design = design_of(spec)
    screen = screen_spec(spec, design)
    return {
        "stages": [SCREEN, ESTIMATE],
        "screen": {
            "scales": list(design.screen_scales),
            "seed": design.screen_seed,
            "trials_per_group": design.screen_trials,
            "epochs": {int(g[CLASSES_KEY]): int(g["train.epochs"]) for g in screen.groups},
            "lr_milestones": {
                int(g[CLASSES_KEY]): g.get("optim.lr_milestones", "") for g in screen.groups
            },
        },
        "estimate": {
            "window": f"{design.window_points} scales evenly spaced in ln s over +-{design.window_half_width} "
            "around each class count's screen optimum (parabola through the best screen scale "
            "and its neighbours)",
            "paired_seeds": list(design.seeds),
            "trials_per_group": design.estimate_trials,
            "epochs": {
                int(g[CLASSES_KEY]): int(g.get("train.epochs", spec.base.get("train.epochs", 0)))
                for g in spec.groups
            },
        },
        "trials": planned_trials(spec),
    }


def baseline_spec(spec: StudySpec) -> StudySpec:
    """The baseline arm as a study of its own: every seed of ``spec.baseline_seeds`` once per group,
    with the study's objectives (a grid over ``train.seed``; the class subset stays the study's, the
    one its searched trials saw)."""
    seeds = spec.baseline_seeds
    return replace(
        spec,
        base=spec.baseline_base,
        baseline={},
        spaces=("seeds",),
        space_options={"seeds": {"seeds": seeds, "subset": False}},
        grid={SEED_KEY: seeds},
        group_grids=(),
        sampler="grid",
        scheduler="none",
        trials=len(seeds),
        seeds=0,
        design={},
    )


def screen_spec(spec: StudySpec, design: ScaleDesign) -> StudySpec:
    groups = tuple({**g, **_shortened(g, spec, design)} for g in spec.groups)
    grid = {SCALE_KEY: tuple(design.screen_scales), SEED_KEY: (design.screen_seed,)}
    return replace(
        spec,
        groups=groups,
        grid=grid,
        group_grids=(),
        sampler="grid",
        scheduler="none",
        trials=design.screen_trials,
        seeds=0,
        design={},
    )


def estimate_spec(
    spec: StudySpec, design: ScaleDesign, windows: Mapping[int, tuple[float, ...]]
) -> StudySpec:
    grids = tuple(
        {SCALE_KEY: tuple(windows[int(g[CLASSES_KEY])]), SEED_KEY: tuple(design.seeds)}
        for g in spec.groups
    )
    return replace(
        spec,
        grid={},
        group_grids=grids,
        sampler="grid",
        scheduler="none",
        trials=design.estimate_trials,
        seeds=0,
        design={},
    )


def _shortened(group: Mapping[str, Any], spec: StudySpec, design: ScaleDesign) -> dict[str, Any]:
    """A screen trial's epochs (``screen_fraction`` of the group's, rounded up) and its lr
    milestones moved to the same fractions of its shorter training."""
    epochs = int(group.get("train.epochs", spec.base.get("train.epochs", 1)))
    short = max(1, math.ceil(epochs * design.screen_fraction))
    out: dict[str, Any] = {"train.epochs": short}
    milestones = str(group.get("optim.lr_milestones", spec.base.get("optim.lr_milestones", "")))
    if milestones.strip():
        moved = sorted(
            {max(1, round(int(m) * short / epochs)) for m in milestones.split(",") if m.strip()}
            - {short}
        )
        out["optim.lr_milestones"] = ",".join(str(m) for m in moved if m < short)
    return out


def place_windows(
    spec: StudySpec, design: ScaleDesign, screen: list[dict[str, Any]]
) -> dict[int, tuple[float, ...]]:
    """Each class count's estimation window from its screen results; saved for a resume."""
    metric, mode = spec.metrics[0], spec.modes[0]
    windows = {}
    for group in spec.groups:
        c = int(group[CLASSES_KEY])
        rows = [r for r in screen if int(r.get(CLASSES_KEY, -1)) == c and r.get(metric) is not None]
        scales = [float(r[SCALE_KEY]) for r in rows] or list(design.screen_scales)
        values = [float(r[metric]) for r in rows] or [math.nan] * len(scales)
        windows[c] = design.window(screen_centre(scales, values, mode))
    save_windows(spec, windows)
    return windows


def save_batches(spec: StudySpec, batches: Mapping[str, tuple[int, ...]]) -> None:
    """The estimate batches planned so far (stage name -> its seeds, in order), so a resume runs
    the same batches and adds only seeds none of them has."""
    _write_json(spec, BATCHES_FILE, {name: list(seeds) for name, seeds in batches.items()})


def load_batches(spec: StudySpec) -> dict[str, tuple[int, ...]]:
    raw = _read_json(spec, BATCHES_FILE) or {}
    return {name: tuple(int(s) for s in seeds) for name, seeds in raw.items()}


def record_first_batch(spec: StudySpec) -> None:
    """For a study whose estimate stage ran before batches were recorded: record it as the batch
    of the seeds ``spec`` (as saved, before a resume changes them) has, so added seeds run apart."""
    import pyarrow.fs

    design = design_of(spec)
    fs, path = _study_location(spec)
    ran = fs.get_file_info(f"{path}/{ESTIMATE}").type != pyarrow.fs.FileType.NotFound
    if design is not None and ran and not load_batches(spec):
        save_batches(spec, {ESTIMATE: design.seeds})


def _study_location(spec: StudySpec) -> tuple[Any, str]:
    import pyarrow.fs

    root = study_dir(spec)
    return pyarrow.fs.FileSystem.from_uri(root if "://" in root else "file://" + root)


def save_windows(spec: StudySpec, windows: Mapping[int, tuple[float, ...]]) -> None:
    _write_json(spec, WINDOWS_FILE, {str(c): list(w) for c, w in windows.items()})


def load_windows(spec: StudySpec) -> dict[int, tuple[float, ...]] | None:
    raw = _read_json(spec, WINDOWS_FILE)
    if raw is None:
        return None
    return {int(c): tuple(float(s) for s in w) for c, w in raw.items()}


def _write_json(spec: StudySpec, filename: str, data: Any) -> None:
    fs, path = _study_location(spec)
    fs.create_dir(path, recursive=True)
    with fs.open_output_stream(f"{path}/{filename}") as out:
        out.write(json.dumps(data, indent=2).encode())


def _read_json(spec: StudySpec, filename: str) -> Any:
    """The file's JSON under the study's directory, or None when there is none."""
    fs, path = _study_location(spec)
    try:
        with fs.open_input_stream(f"{path}/{filename}") as handle:
            return json.loads(handle.read().decode())
    except (FileNotFoundError, OSError):
        return None


def result_rows(results: Any, metric: str) -> list[dict[str, Any]]:
    """A Tune ResultGrid as plain rows: the trial's config keys plus its last ``metric``."""
    rows = []
    for result in results:
        row = dict(result.config or {})
        value = (result.metrics or {}).get(metric)
        row[metric] = (
            None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        )
        rows.append(row)
    return rows


__all__ = [
    "BASELINE",
    "Stage",
    "baseline_spec",
    "describe",
    "design_of",
    "estimate_spec",
    "load_batches",
    "record_first_batch",
    "load_windows",
    "next_stage",
    "place_windows",
    "planned_trials",
    "result_rows",
    "screen_spec",
]
