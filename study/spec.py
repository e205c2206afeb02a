"""StudySpec: what to search, how many trials, sampler, resources, tracking and storage."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from search_spaces.seeds import SEED_KEY
from study.defaults import DEFAULT_STORAGE, DEFAULT_TRACKING_URI, SEED_LIMIT
from study.errors import UsageError
from trainables.config import ConfigError, TrialConfig
from trainables.metric_names import VAL_ACCURACY
from trainables.validate import check_data, check_names

METRIC_MODES = ("max", "min")
# numeric field -> (holds for an allowed value, what is allowed); NaN fails every comparison
NUMBER_RULES: dict[str, tuple[Any, str]] = {
    "seed": (lambda v: 0 <= v < SEED_LIMIT, "a whole number 0 <= seed < 2**32"),
    "cpus_per_trial": (lambda v: 0 < v < math.inf, "a finite number of CPUs > 0"),
    "gpus_per_trial": (
        lambda v: 0 <= v < math.inf,
        "a finite GPU share >= 0 (0.25 runs four trials on one GPU)",
    ),
    "max_concurrent": (lambda v: v >= 0, "a whole number >= 0 (0 = no cap)"),
    "checkpoint_every_s": (lambda v: v >= 0, "seconds >= 0 (0 = every epoch, inf = never)"),
}


@dataclass(frozen=True)
class StudySpec:
    name: str  # MLflow experiment and Ray Tune run name
    preset: str  # preset it came from ("custom" for a YAML file)
    size: str  # smoke | cpu | full
    trials: int  # trials per group
    base: Mapping[str, Any]  # fixed flat TrialConfig values shared by every trial
    spaces: tuple[str, ...]  # search_spaces registry keys, applied in order
    # space -> its keyword options
    space_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # one Optuna study per group, e.g. per class count
    groups: tuple[Mapping[str, Any], ...] = ({},)
    sampler: str = "tpe"
    scheduler: str = "asha"
    metric: str = (
        VAL_ACCURACY  # reported metric the sampler optimizes; "a,b" for several objectives
    )
    mode: str = "max"  # max | min, one per metric ("max,max")
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # the grid sampler's cells
    group_grids: tuple[
        Mapping[str, tuple[Any, ...]], ...
    ] = ()  # a grid per group instead of `grid` (staged designs)
    # a staged design (ScaleDesign fields); {} = one stage (study.stages)
    design: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0  # sampler seed
    seeds: int = 0  # paired seeds per grid cell (0 = the grid as given, 1 = one run per cell, N = every cell on seeds 0..N-1); also the baseline's seeds, and a staged design's estimate-stage seeds
    # flat values of a baseline arm run on the paired seeds after the search (camri: loss.output=ce); {} = none
    baseline: Mapping[str, Any] = field(default_factory=dict)
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0  # fractional values let several trials share one GPU
    max_concurrent: int = 0  # 0 = as many as the cluster's CPUs (and GPUs) allow
    max_failures: int = 2  # retries of a trial whose worker died, from its last checkpoint
    checkpoint_every_s: float = 60.0  # a trial saves its state when this much training time passed since its last save (0 = every epoch)
    tracking_uri: str = DEFAULT_TRACKING_URI
    storage: str = DEFAULT_STORAGE  # Ray Tune experiment state and checkpoints: path or cloud URI
    address: str = ""  # Ray cluster address; "" starts a local Ray
    description: str = ""
    optuna_storage: str = ""  # the sampler's Optuna studies: an RDB URL or a journal file; "" = beside the MLflow store
    system_metrics: bool = False  # MLflow system metrics (CPU, memory, GPU) in every trial run

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise UsageError(f"--trials {self.trials}: expected a positive whole number of trials")
        if len(self.metrics) != len(self.modes) or not set(self.modes) <= set(METRIC_MODES):
            raise UsageError(
                f"mode={self.mode!r} is invalid: give max or min for each of the metrics {self.metric!r}"
            )
        if self.multi_objective and self.scheduler != "none":
            raise UsageError(
                f"scheduler={self.scheduler!r} needs one metric; several objectives ({self.metric}) need scheduler none"
            )
        self._check_numbers()
        self._pair_seeds()
        if self.design:
            self._check_design()

    def _check_numbers(self) -> None:
        """Each numeric field against ``NUMBER_RULES``: one line naming the field, its value and
        what is allowed."""
        for name, (holds, allowed) in NUMBER_RULES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not holds(value):
                raise UsageError(f"{name}={value!r} is invalid; expected {allowed}")

    def _check_design(self) -> None:
        from search_spaces.scale_design import ScaleDesign

        fields = [f.name for f in dataclasses.fields(ScaleDesign)]
        try:
            ScaleDesign(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in dict(self.design).items()}
            )
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"design={dict(self.design)!r} is invalid ({exc}); its fields are: {', '.join(fields)}"
            ) from None
        if any("data.num_classes" not in g for g in self.groups):
            raise UsageError(
                "a staged design estimates s* per class count: every group needs its data.num_classes"
            )
        if self.baseline:
            raise UsageError(
                "a baseline arm runs after a one-stage study; a staged design (design=...) has none: leave baseline out"
            )

    def _pair_seeds(self) -> None:
        """Replicate every grid cell on the same ``seeds`` (a ``train.seed`` axis of the grid and the
        ``seeds`` space, which ties ``data.subset_seed`` to it); the trials grow with the axis.
        Idempotent, so a saved spec loads back unchanged and ``--trials`` still overrides."""
        if self.seeds < 0 or isinstance(self.seeds, bool):
            raise UsageError(
                f"seeds={self.seeds!r}: expected a positive whole number of paired seeds"
            )
        if self.seeds == 0:
            return
        if self.design:
            self._design_seeds()
            return
        if self.sampler != "grid":
            # with a baseline arm the seeds are the baseline's
            if self.seeds > 1 and not self.baseline:
                raise UsageError(
                    f"seeds={self.seeds} runs every grid cell on the same seeds; sampler {self.sampler!r} "
                    "has no cells: use the grid sampler or seeds 1"
                )
            return
        managed = "seeds" in self.spaces and SEED_KEY in self.grid
        if self.group_grids or ("seeds" in self.spaces and not managed):
            raise UsageError(
                f"seeds={self.seeds}: this study's design draws its own seeds (the seeds space"
                + (" and a grid per group" if self.group_grids else "")
                + "); leave --seeds out"
            )
        before = len(self.grid[SEED_KEY]) if managed else 1
        grid = {k: v for k, v in self.grid.items() if k != SEED_KEY or not managed}
        spaces = tuple(s for s in self.spaces if s != "seeds" or not managed)
        options = {k: v for k, v in self.space_options.items() if k != "seeds" or not managed}
        if self.seeds > 1:
            axis = tuple(range(self.seeds))
            grid[SEED_KEY] = axis
            spaces += ("seeds",)
            options["seeds"] = {"seeds": axis}
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "spaces", spaces)
        object.__setattr__(self, "space_options", options)
        object.__setattr__(self, "trials", max(1, -(-self.trials * self.seeds // before)))

    def _design_seeds(self) -> None:
        """A staged design's estimate stage on seeds 0..seeds-1 (the screen keeps its one seed)."""
        axis = list(range(self.seeds))
        window_points = int(self.design.get("window_points", 1))
        options = {
            **self.space_options,
            "seeds": {**self.space_options.get("seeds", {}), "seeds": axis},
        }
        object.__setattr__(self, "design", {**self.design, "seeds": axis})
        object.__setattr__(self, "space_options", options)
        object.__setattr__(self, "trials", window_points * self.seeds)

    def grid_of(self, index: int) -> Mapping[str, tuple[Any, ...]]:
        """The grid sampler's cells for group ``index``."""
        return self.group_grids[index] if self.group_grids else self.grid

    @property
    def paired_seeds(self) -> tuple[int, ...]:
        """The seeds every grid cell runs on (empty when the study is not replicated)."""
        return tuple(self.grid.get(SEED_KEY, ())) if "seeds" in self.spaces else ()

    @property
    def baseline_seeds(self) -> tuple[int, ...]:
        """The seeds the baseline arm runs on (every group, each seed once); empty without a baseline."""
        return tuple(range(max(1, self.seeds))) if self.baseline else ()

    @property
    def baseline_base(self) -> dict[str, Any]:
        """The fixed values of the baseline arm: the study's, with the baseline's own over them; the
        loss parameters of the study's loss are dropped when the baseline names another loss."""
        base = dict(self.base)
        if "loss.output" in self.baseline and self.baseline["loss.output"] != base.get(
            "loss.output"
        ):
            base = {k: v for k, v in base.items() if not k.startswith("loss.params.")}
        return {**base, **self.baseline}

    @property
    def metrics(self) -> list[str]:
        return [m.strip() for m in self.metric.split(",")]

    @property
    def modes(self) -> list[str]:
        return [m.strip() for m in self.mode.split(",")]

    @property
    def multi_objective(self) -> bool:
        return len(self.metrics) > 1

    def trial_configs(self, load_data: bool = False) -> list[TrialConfig]:
        """The fixed part of every group, validated: a typo fails here, before Ray starts.
        With ``load_data`` each group's dataset is loaded once to check its files and classes."""
        out = []
        bases = [self.base, self.baseline_base] if self.baseline else [self.base]
        for base, group in ((b, g) for b in bases for g in self.groups):
            try:
                cfg = TrialConfig.from_flat({**base, **group})
                if self.scheduler != "none" and cfg.train.validate_every != 1:
                    raise UsageError(
                        f"scheduler={self.scheduler!r} compares trials on {self.metrics[0]} after every epoch: "
                        f"train.validate_every must be 1 (it is {cfg.train.validate_every}), or use scheduler none"
                    )
                check_names(cfg)
                if load_data:
                    check_data(cfg)
                out.append(cfg)
            except ConfigError as exc:
                raise UsageError(str(exc)) from None
        return out

    def with_overrides(self, **changes: Any) -> StudySpec:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


SPEC_FILE = "study.json"


def study_dir(spec: StudySpec) -> str:
    """Where the study's Ray Tune state lives: ``<storage>/<name>`` (a local path or a cloud URI)."""
    root = spec.storage if "://" in spec.storage else os.path.abspath(spec.storage)
    return f"{root.rstrip('/')}/{spec.name}"


def storage_filesystem(storage: str, below: str = "") -> tuple[Any, str]:
    """pyarrow's filesystem and path of ``storage``/``below`` (a local path or a URI); a one-line
    UsageError for a URI pyarrow cannot open (an unknown scheme, a malformed address)."""
    import pyarrow
    import pyarrow.fs

    root = storage if "://" in storage else "file://" + os.path.abspath(storage)
    uri = f"{root.rstrip('/')}/{below}" if below else root
    try:
        return pyarrow.fs.FileSystem.from_uri(uri)
    except (pyarrow.ArrowException, ValueError, OSError) as exc:
        raise UsageError(
            f"--storage {storage}: not a usable path or storage URI ({str(exc).splitlines()[0]}); "
            "expected a directory path or a URI such as s3://BUCKET/PATH or gs://BUCKET/PATH"
        ) from None


def check_storage(storage: str) -> None:
    """``--storage`` can hold the study: a URI pyarrow opens, or a local path whose nearest existing
    part is a writable directory. Nothing is left behind."""
    from study.output_paths import check_out_dir

    if "://" in storage:
        storage_filesystem(storage)
    else:
        check_out_dir("--storage", storage)


def save_spec(spec: StudySpec) -> None:
    """Write the spec beside the Ray Tune state so ``study resume NAME`` can rebuild it: to a
    temporary file renamed over ``study.json``, so a crash never leaves half a spec."""
    fs, path = storage_filesystem(spec.storage, spec.name)
    fs.create_dir(path, recursive=True)
    partial = f"{path}/{SPEC_FILE}.partial"
    with fs.open_output_stream(partial) as out:
        out.write(json.dumps(dataclasses.asdict(spec), indent=2, default=list).encode())
    fs.move(partial, f"{path}/{SPEC_FILE}")  # os.replace on a local disk


def load_spec(storage: str, name: str) -> StudySpec:
    """The spec of study ``name`` saved under ``storage``; a one-line UsageError when there is
    none or ``study.json`` is not a spec."""
    fs, path = storage_filesystem(storage, f"{name}/{SPEC_FILE}")
    try:
        with fs.open_input_stream(path) as handle:
            data = handle.read()
    except (FileNotFoundError, OSError):
        raise UsageError(
            f"no study named {name!r} under --storage {storage} (expected {path})"
        ) from None
    return spec_from_json(data, path)


def spec_from_json(data: bytes, path: str) -> StudySpec:
    """A StudySpec from the bytes of a ``study.json``; a one-line UsageError naming ``path`` when
    they are not JSON of a spec's fields."""
    try:
        raw = json.loads(data.decode())
        return _spec_from_raw(raw)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        why = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise UsageError(
            f"{path} is not a saved study spec ({why}); `study run` writes it: restore it, "
            "or start the study again under another --name"
        ) from None


def _spec_from_raw(raw: dict[str, Any]) -> StudySpec:
    """The JSON object of a saved spec as a StudySpec, its lists as the tuples it holds."""
    for key in ("spaces", "groups"):
        raw[key] = tuple(raw[key])
    raw["grid"] = {k: tuple(v) for k, v in raw["grid"].items()}
    raw["group_grids"] = tuple(
        {k: tuple(v) for k, v in g.items()} for g in raw.get("group_grids", ())
    )
    return StudySpec(**raw)


def total_epochs(spec: StudySpec) -> int:
    return max(cfg.train.total_epochs for cfg in spec.trial_configs())


__all__ = [
    "SPEC_FILE",
    "StudySpec",
    "check_storage",
    "load_spec",
    "save_spec",
    "spec_from_json",
    "storage_filesystem",
    "study_dir",
    "total_epochs",
]
