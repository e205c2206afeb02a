"""What each CLI command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

from study import stages
from study.cluster import check_address, check_store_for_cluster
from study.errors import UsageError
from study.presets import PRESETS
from study.spec import SPEC_FILE, StudySpec, check_storage, load_spec, study_dir
from study.tracking import check_store, check_tracking_uri, normalize_tracking_uri


def spec_from_args(args: argparse.Namespace) -> StudySpec:
    """The study of ``--config FILE`` or ``--preset NAME --size SIZE``, with the flags applied."""
    where = dict(
        tracking_uri=normalize_tracking_uri(args.tracking_uri),
        storage=args.storage,
        address=args.address,
        optuna_storage=args.optuna_storage or "",
    )
    spec = _file_spec(args, where) if args.config else _preset_spec(args, where)
    spec = spec.with_overrides(
        name=args.name,
        trials=args.trials,
        sampler=args.sampler,
        scheduler=args.scheduler,
        seed=args.seed,
        max_concurrent=args.max_concurrent,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        max_failures=args.max_failures,
        checkpoint_every_s=args.checkpoint_every_s,
        system_metrics=args.system_metrics,
    )
    _refuse_what_the_design_fixes(spec, args)
    return spec


def _refuse_what_the_design_fixes(spec: StudySpec, args: argparse.Namespace) -> None:
    """A staged design (the main job) sets its own trials, sampler and scheduler in each stage: a
    flag that would be ignored is refused, so the plan never shows a value that does not run."""
    if not spec.design:
        return
    check_registries(spec)  # an unknown name is named as such first
    for flag, value in (
        ("--trials", args.trials),
        ("--sampler", args.sampler),
        ("--scheduler", args.scheduler),
    ):
        if value is not None:
            raise UsageError(
                f"{flag} {value}: study {spec.name} runs a staged design whose screen and estimate "
                "stages fix their trials (a grid of scales, and of paired seeds), sampler (grid) and "
                "scheduler (none); change it with --seeds N or a study file's design: field"
            )


def _file_spec(args: argparse.Namespace, where: dict) -> StudySpec:
    """The study of ``--config FILE``: the file's fields, ``--data-root`` as its data.root (it wins,
    docs/configuration.md); ``--preset`` and ``--size`` belong to a preset and are refused."""
    from study.config_file import load_study_file

    for flag, value in (("--preset", args.preset), ("--size", args.size)):
        if value is not None:
            raise UsageError(
                f"{flag} {value}: --config {args.config} is the whole study; a study file sets its "
                "own fields (size: in the file), so give either --config or --preset/--size"
            )
    spec = load_study_file(args.config, **where)
    if args.data_root:
        spec = replace(spec, base={**spec.base, "data.root": args.data_root})
    if getattr(args, "seeds", None):
        spec = replace(spec, seeds=args.seeds)
    return spec


def _preset_spec(args: argparse.Namespace, where: dict) -> StudySpec:
    """The study of ``--preset NAME --size SIZE`` (the main job's preset and its default size
    unless given)."""
    from study.presets.base import MAIN_PRESET

    name = args.preset or MAIN_PRESET
    try:
        preset = PRESETS.get(name)
    except KeyError as exc:
        raise UsageError(f"--preset: {exc.args[0]}") from None
    size = args.size or preset.default_size
    fields = preset.build(size, args.data_root)
    if getattr(args, "seeds", None):
        fields["seeds"] = args.seeds
    return StudySpec(name=f"{name}-{size}", preset=name, size=size, **where, **fields)


def validate(spec: StudySpec) -> None:
    """Everything that can be checked before Ray starts or the store is touched, a dry run's
    too: each group's dataset is loaded once (its files, class count and head/tail sets; the
    load fills the cache the trials read)."""
    check_registries(spec)
    check_fields(spec)
    check_storage(spec.storage)
    check_store_for_cluster(spec.tracking_uri, spec.address)
    check_address(spec.address)
    check_tracking_uri(spec.tracking_uri)
    check_store(spec.tracking_uri, spec.name)
    spec.trial_configs(load_data=True)
    try_spaces(spec)


def check_registries(spec: StudySpec) -> None:
    """The sampler, the scheduler and the search spaces are registered names."""
    from search_spaces import SPACES
    from study.samplers import SAMPLERS, SCHEDULERS

    for registry, value, flag in (
        (SAMPLERS, spec.sampler, "--sampler"),
        (SCHEDULERS, spec.scheduler, "--scheduler"),
    ):
        if value not in registry:
            raise UsageError(
                f"{flag} {value!r} is unknown; choose one of: {', '.join(registry.names())}"
            )
    for name in spec.spaces:
        if name not in SPACES:
            raise UsageError(
                f"search space {name!r} is unknown; choose from: {', '.join(SPACES.names())}"
            )


def check_fields(spec: StudySpec) -> None:
    """What a --config file can get wrong that the flags' types already catch: the name, the size,
    retries, and a grid study asking for more trials than its grid has cells."""
    from study.cli import STUDY_NAME
    from study.config_file import CUSTOM
    from study.presets.base import SIZES

    if not STUDY_NAME.match(spec.name):
        raise UsageError(
            f"study name {spec.name!r} is invalid; expected 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it names a directory under --storage)"
        )
    if spec.size not in (*SIZES, CUSTOM):
        raise UsageError(
            f"size={spec.size!r} is invalid; expected one of: {', '.join((*SIZES, CUSTOM))}"
        )
    if spec.max_failures < 0:
        raise UsageError(
            f"max_failures={spec.max_failures}: expected a whole number >= 0 (0 = no retries)"
        )
    check_grid_trials(spec)


def check_grid_trials(spec: StudySpec) -> None:
    """A grid study asks for no more trials than its grid has cells."""
    from study.samplers import grid_size

    if spec.sampler != "grid" or spec.design:  # a staged design plans its own grids (study.stages)
        return
    if not spec.grid:
        raise UsageError(
            f"--sampler grid needs a grid of cells and study {spec.name!r} has none; use a preset with a "
            "grid (basics, head-tail, loss-combos) or a --config file with a 'grid' field"
        )
    cells = grid_size(spec.grid)
    if spec.trials > cells:
        axes = " x ".join(f"{len(v)} {k}" for k, v in spec.grid.items())
        raise UsageError(
            f"--trials {spec.trials}: the grid sampler runs each cell once and the grid has {cells} cells "
            f"({axes}); use --trials {cells} or fewer"
        )


def try_spaces(spec: StudySpec, draws: int = 3) -> None:
    """Draw a few points from the study's space (from its grid, when it has one) and validate each,
    so a bad space option or grid value fails here instead of inside Ray Tune."""
    import optuna

    from study.stages import baseline_spec, design_of, screen_spec

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    design = design_of(spec)
    # a staged design: its first stage's grids
    first = screen_spec(spec, design) if design is not None else spec
    # and the baseline arm's
    for tried in [first, *([baseline_spec(spec)] if spec.baseline else [])]:
        _try_groups(tried, draws)


def _try_groups(tried: StudySpec, draws: int) -> None:
    """``try_spaces`` for one stage's spec: each group's sampler and space, ``draws`` points."""
    import optuna

    from search_spaces import compose
    from study.samplers import SAMPLERS
    from trainables.config import ConfigError, TrialConfig
    from trainables.validate import check_names

    directions = ["maximize" if m == "max" else "minimize" for m in tried.modes]
    for index, group in enumerate(tried.groups):
        # the study's own sampler (a missing optional package such as cmaes fails here, not in Ray)
        sampler = SAMPLERS.get(tried.sampler)(tried.seed, tried.grid_of(index))
        study = optuna.create_study(sampler=sampler, directions=directions)
        try:
            space = compose(tried.spaces, tried.space_options, {**tried.base, **group})
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise _space_error(tried, exc) from None
        for _ in range(draws):
            trial = study.ask()
            try:
                check_names(TrialConfig.from_flat({**space(trial), **trial.params}))
            except ConfigError as exc:
                raise UsageError(f"a sampled point is invalid: {exc}") from None
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise _space_error(tried, exc) from None
            try:
                study.tell(trial, [0.0] * len(directions))
            except RuntimeError:  # the grid sampler stops the study after its last cell
                break


def _space_error(tried: StudySpec, exc: Exception) -> UsageError:
    return UsageError(
        f"search space {'+'.join(tried.spaces)} fails with its options "
        f"{dict(tried.space_options)}: {exc}; each space's options are a mapping of its "
        "keyword arguments, e.g. space_options: {lr: {low: 0.001, high: 0.1}}"
    )


def plan(spec: StudySpec) -> dict:
    return {
        "study": spec.name,
        "preset": spec.preset,
        "size": spec.size,
        "description": spec.description,
        "trials_per_group": spec.trials,
        "groups": [dict(g) for g in spec.groups],
        "sampler": spec.sampler,
        "scheduler": spec.scheduler,
        "metric": spec.metric,
        "mode": spec.mode,
        "resources_per_trial": {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial},
        "max_concurrent": spec.max_concurrent
        or "no cap: as many as the cluster's free resources fit",
        "max_failures": spec.max_failures,
        "checkpoint_every_s": spec.checkpoint_every_s,
        "paired_seeds": list(spec.paired_seeds),
        "grid": {k: list(v) for k, v in spec.grid.items()},
        "search_spaces": list(spec.spaces),
        "fixed_config": dict(spec.base),
        "tracking_uri": spec.tracking_uri,
        "storage": spec.storage,
        "address": spec.address or "local",
        **({"design": stages.describe(spec)} if spec.design else {}),
        **(
            {
                "baseline": {
                    "values": dict(spec.baseline),
                    "seeds": list(spec.baseline_seeds),
                    "trials_per_group": len(spec.baseline_seeds),
                }
            }
            if spec.baseline
            else {}
        ),
    }


def run_command(args: argparse.Namespace) -> int:
    from study import optuna_store

    spec = spec_from_args(args)
    validate(spec)
    if os.path.exists(os.path.join(study_dir(spec), SPEC_FILE)):
        raise UsageError(
            f"a study named {spec.name!r} already exists under --storage {spec.storage}: "
            f"continue it with `study resume {spec.name} --storage {spec.storage}` or pick another --name"
        )
    optuna_url = optuna_store.location(spec.optuna_storage, spec.tracking_uri, spec.storage)
    optuna_store.check_new(optuna_url, spec.name)
    if args.dry_run:
        if args.format == "yaml":
            from study.config_file import dump_study_file

            print(dump_study_file(spec), end="")
        else:
            print(json.dumps({**plan(spec), "optuna_storage": optuna_url}, indent=2, default=str))
        return 0
    print(
        f"study {spec.name}: {stages.planned_trials(spec)} trials, sampler {spec.sampler}, "
        f"scheduler {spec.scheduler}, tracking {spec.tracking_uri}",
        flush=True,
    )
    return _execute(spec, resume=False)


def _execute(spec: StudySpec, resume: bool) -> int:
    from study.run import run_study

    started = time.monotonic()
    outcome = run_study(spec, resume=resume)
    if outcome.interrupted:
        print(
            f"interrupted after {time.monotonic() - started:.0f} s; the state is saved. "
            f"Resume with: study resume {spec.name} --storage {spec.storage}",
            flush=True,
        )
        return 130
    print(
        f"done in {time.monotonic() - started:.0f} s: {outcome.trials} trials, {outcome.failed} failed; "
        f"browse them with `study ui --tracking-uri {spec.tracking_uri}`",
        flush=True,
    )
    return exit_code(outcome.trials, outcome.failed)


def exit_code(trials: int, failed: int) -> int:
    """0 when every trial ended, 3 when all failed, 4 when some did (``study.cli.EXIT_CODES``)."""
    if failed and failed >= trials:
        print(
            f"every trial failed ({failed}): their MLflow runs carry the reason in the failure_reason tag",
            file=sys.stderr,
        )
        return 3
    if failed:
        print(
            f"{failed} of {trials} trials failed: their MLflow runs carry the reason in the failure_reason tag",
            file=sys.stderr,
        )
        return 4
    return 0


def resume_command(args: argparse.Namespace) -> int:
    spec = load_spec(args.storage, args.name)
    spec = spec.with_overrides(
        storage=args.storage,
        address=args.address,
        tracking_uri=normalize_tracking_uri(args.tracking_uri) if args.tracking_uri else None,
    )
    if args.seeds is not None:
        spec = with_more_seeds(spec, args.seeds)
    validate(spec)
    print(f"resuming study {spec.name} from {study_dir(spec)}", flush=True)
    return _execute(spec, resume=True)


def with_more_seeds(spec: StudySpec, seeds: int) -> StudySpec:
    """``spec`` with its staged design's estimate stage on seeds 0..seeds-1 (study.stages runs the
    added ones as one more batch); a one-line UsageError for a study without a staged design or for
    fewer seeds than it has."""
    design = stages.design_of(spec)
    if design is None:
        raise UsageError(
            f"--seeds {seeds}: study {spec.name!r} has no staged design; resume --seeds adds paired "
            "seeds to a staged design's estimate stage (scale-vs-classes), other studies keep the "
            "seeds they started with"
        )
    if seeds < len(design.seeds):
        raise UsageError(
            f"--seeds {seeds}: study {spec.name!r} already runs seeds 0..{len(design.seeds) - 1}; "
            f"--seeds only adds seeds: give {len(design.seeds)} or more"
        )
    stages.record_first_batch(spec)
    return replace(spec, seeds=seeds)


def _check_recorded(trials: Any, metric: str | None) -> None:
    """A ``--metric`` (``a,b`` for several) that no trial recorded: one line naming those recorded."""
    for name in (m.strip() for m in (metric or "").split(",") if m.strip()):
        column = f"metric:{name}"
        if column not in trials or trials[column].notna().sum() == 0:
            recorded = sorted(c[len("metric:") :] for c in trials if c.startswith("metric:"))
            raise UsageError(
                f"--metric {name}: no trial recorded it; the trials recorded: {', '.join(recorded) or 'none'}"
            )


def report_command(args: argparse.Namespace) -> int:
    from analysis import write_report
    from study.analysis_commands import load_store
    from study.output_paths import check_out_dir

    check_out_dir("--out", args.out)
    uri, trials = load_store(args.tracking_uri, args.experiment)
    _check_recorded(trials, args.metric)
    from study.parent_run import attach_report

    report = write_report(
        trials, args.out, args.metric, args.mode, tracking_uri=uri, figures=not args.no_figures
    )
    for study in report["studies"]:
        best, metric = study["best"], study["metric"]
        if study.get("pareto") is not None:  # several objectives: no single best trial
            print(
                f"{study['experiment']}: Pareto front of {metric}: {len(study['pareto']['front'])} of "
                f"{len(study['pareto']['points'])} finished trials"
            )
            continue
        print(
            f"{study['experiment']}: best {metric} "
            + (f"{best[metric]:.4f} (run {best['run_id']})" if best else "none")
        )
        if best:
            print(f"  replay: {best['replay']}")
    print(
        f"wrote {args.out}/report.md, report.html, report.json"
        + ("" if args.no_figures else f" and {args.out}/figures/")
    )
    for study in report["studies"]:
        parent = attach_report(uri, study["experiment"], args.out)
        if parent:
            print(
                f"attached the report to the parent run {parent} of study {study['experiment']} (artifacts report/)"
            )
    return 0


def ui_command(args: argparse.Namespace) -> int:
    from study.analysis_commands import checked_store

    uri = checked_store(args.tracking_uri)  # never creates an empty store
    if uri.startswith(("http://", "https://")):  # a tracking server serves its own UI
        print(f"{uri} is an MLflow tracking server; its UI is at {uri.rstrip('/')}/", flush=True)
        return 0
    mlflow = shutil.which("mlflow") or str(
        __import__("pathlib").Path(sys.executable).with_name("mlflow")
    )
    command = [
        mlflow,
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    print(f"MLflow UI for {uri} at http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return 0


def presets_command(args: argparse.Namespace) -> int:
    for name in PRESETS.names():
        print(f"{name:18s} {PRESETS.get(name).summary}")
    return 0
