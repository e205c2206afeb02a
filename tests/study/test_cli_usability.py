"""The CLI as a new user meets it: --version, --help with choices and defaults, a dry run whose YAML
--config reads back unchanged, $MLFLOW_TRACKING_URI, the store checks of a dry run, exit codes, and
the pieces of MLflow recording that need no Ray (run names, retries, the progress line)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from study.callbacks import ProgressLine
from study.commands import exit_code
from study.tracking import transient, trial_run_name


def test_version(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("study 0."), done.stdout + done.stderr


def test_help_lists_choices_defaults_and_exit_codes(cli):
    text = " ".join(cli("run", "--help").stdout.split())  # argparse wraps lines
    for expected in (
        "--sampler {cmaes,grid,nsga2,qmc,random,tpe}",
        "--scheduler {asha,median,none}",
        "scale-vs-classes",
        "smoke",
        "default: scale-vs-classes",
        "tpe (scale-schedules",
        "$MLFLOW_TRACKING_URI if set, else sqlite:///mlflow.db",
        "3 = every trial failed",
        "4 = some trials failed",
        "--format {json,yaml}",
        "--system-metrics",
        "--optuna-storage",
    ):
        assert expected in text, expected
    assert "dashboard" in cli("--help").stdout


@pytest.mark.parametrize(
    "command, shown",
    [
        ("report", ["output directory (default: reports)"]),
        ("trend", ["(default: reports)", "(default 1000)", "(default 0.3)", "(default 0)"]),
        (
            "run",
            ["(default: the preset's, 0)", "(default 0: CPU only)", "--data-root", "default: none"],
        ),
        ("bench", ["about 20 minutes on 2 idle cores, longer when the cores are shared"]),
        ("ui", ["1..65535 (default: 5000)"]),
    ],
)
def test_help_shows_the_defaults_as_values(cli, command, shown):
    text = " ".join(cli(command, "--help").stdout.split())
    for expected in shown:
        assert expected in text, expected
    assert "analysis.trends" not in text


def test_the_cli_mirrors_of_analysis_constants_agree():
    """study.cli spells these out so --help does not import the analysis (statsmodels, scipy)."""
    from analysis import power, response, trends
    from study import cli as study_cli

    assert study_cli.TREND_BANDWIDTH == trends.BANDWIDTH and study_cli.TREND_BOOT == trends.N_BOOT
    assert study_cli.RESPONSE_MODELS == tuple(response.MODELS)
    assert study_cli.PEAK_SHAPES == tuple(power.SHAPES)


def test_dry_run_yaml_is_read_back_unchanged(cli, tmp_path):
    first = cli("run", "--preset", "smoke", "--dry-run", "--format", "yaml", "--trials", "3")
    assert first.returncode == 0, first.stderr
    config = tmp_path / "study.yaml"
    config.write_text(first.stdout)
    again = cli("run", "--config", str(config), "--dry-run", "--format", "yaml")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout and "trials: 3" in first.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.yaml"]  # a dry run writes nothing


@pytest.mark.parametrize(
    "preset",
    ["smoke", "basics", "camri", "head-tail", "loss-combos", "scale-schedules", "scale-vs-classes"],
)
def test_every_preset_survives_the_yaml_round_trip(tmp_path, preset):
    from study.cli import build_parser
    from study.commands import spec_from_args
    from study.config_file import dump_study_file, load_study_file

    args = build_parser().parse_args(
        [
            "run",
            "--preset",
            preset,
            "--tracking-uri",
            f"sqlite:///{tmp_path / 'm.db'}",
            "--storage",
            str(tmp_path / "r"),
            "--seed",
            "7",
            "--system-metrics",
        ]
    )
    spec = spec_from_args(args)
    (tmp_path / "study.yaml").write_text(dump_study_file(spec))
    back = load_study_file(
        str(tmp_path / "study.yaml"),
        tracking_uri=spec.tracking_uri,
        storage=spec.storage,
        address=spec.address,
        optuna_storage=spec.optuna_storage,
    )
    as_json = lambda s: json.dumps(dataclasses.asdict(s), sort_keys=True, default=list)  # noqa: E731 - tuples == lists
    assert as_json(back) == as_json(spec)
    assert dump_study_file(back) == dump_study_file(spec)


def test_mlflow_tracking_uri_is_the_default_store(cli, tmp_path, monkeypatch):
    wanted = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", wanted)
    done = cli("run", "--preset", "smoke", "--dry-run")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["tracking_uri"] == wanted
    assert plan["optuna_storage"] == str(tmp_path / "optuna.journal")  # beside the MLflow store


def _rejected(done, fragment: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr


def test_dry_run_rejects_a_file_that_is_not_an_mlflow_store(cli, tmp_path):
    (tmp_path / "notes.db").write_text("not a database at all\n" * 100)
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--dry-run",
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'notes.db'}",
    )
    _rejected(done, "is not an MLflow sqlite store")
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--dry-run",
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'other.db'}",
    )
    _rejected(done, "is a sqlite database but not an MLflow store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "other.db"]


def test_dry_run_rejects_a_deleted_experiment_of_the_same_name(cli, tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(store)
    client.delete_experiment(client.create_experiment("smoke-smoke"))
    done = cli("run", "--preset", "smoke", "--dry-run", "--tracking-uri", store)
    _rejected(done, "MLflow experiment 'smoke-smoke'")
    assert "mlflow experiments restore" in done.stderr


def test_dry_run_rejects_an_existing_optuna_study_of_the_same_name(cli, tmp_path):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    journal = tmp_path / "optuna.journal"
    optuna.create_study(
        study_name="smoke-smoke", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--dry-run",
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    _rejected(done, "Optuna study 'smoke-smoke' already exists")
    assert not (tmp_path / "mlflow.db").exists()


def test_exit_codes_say_whether_trials_failed():
    assert exit_code(4, 0) == 0 and exit_code(0, 0) == 0
    assert exit_code(3, 3) == 3  # all failed
    assert exit_code(3, 1) == 4  # some failed


def test_trial_runs_are_named_for_what_they_train():
    flat = {
        "data.num_classes": 20,
        "loss.output": "normface",
        "scale.schedule": "constant",
        "scale.start": 12.4,
        "scale.end": 12.4,
        "train.seed": 1,
        "optim.lr": 0.1,
    }
    assert trial_run_name(flat) == "C=20 normface s=12.4 seed=1"
    flat.update(
        {
            "loss.output": "arcface",
            "loss.params.margin_rad": 0.5,
            "scale.schedule": "linear",
            "scale.end": 4,
            "loss.terms.pc.weight": 0.1,
            "search.pc_on": "head",
            "data.num_classes": 0,
        }
    )
    assert trial_run_name(flat) == "C=all arcface+pc s=12.4->4 linear m=0.5 pc_on=head seed=1"
    assert (
        trial_run_name(
            {"data.num_classes": 10, "loss.output": "ce", "scale.start": 16.0, "train.seed": 0}
        )
        == "C=10 ce seed=0"
    )


def test_only_a_locked_sqlite_store_counts_as_transient():
    import sqlalchemy

    locked = sqlalchemy.exc.OperationalError("INSERT ...", {}, Exception("database is locked"))
    try:
        try:
            raise locked
        except sqlalchemy.exc.OperationalError as exc:
            raise MlflowException(str(exc)) from exc
    except MlflowException as wrapped:
        assert transient(wrapped)
    assert not transient(MlflowException("RESOURCE_DOES_NOT_EXIST: run 'x' not found"))
    # MLflow's HTTP client retries these itself
    assert not transient(ConnectionError("connection refused"))


def test_a_permanent_tracking_error_is_raised_at_once():
    from study.tracking import retry

    calls = []

    def broken():
        calls.append(1)
        raise MlflowException("INVALID_PARAMETER_VALUE: a param changed its value")

    with pytest.raises(MlflowException):
        retry(broken)
    assert len(calls) == 1


def test_the_progress_line_never_shows_nan():
    line = ProgressLine("val_accuracy", "max", total=3)
    trials = [
        SimpleNamespace(
            status="TERMINATED",
            trial_id="a",
            last_result={"val_accuracy": float("nan"), "trial_failed": 1.0},
        ),
        SimpleNamespace(status="RUNNING", trial_id="b", last_result={}),
    ]
    text = line._line(trials)
    assert "nan" not in text.lower() and "best" not in text and "1 failed" in text
    trials.append(
        SimpleNamespace(status="TERMINATED", trial_id="c", last_result={"val_accuracy": 0.75})
    )
    assert "best val_accuracy 0.7500 (c)" in line._line(trials)


def test_the_dataset_digest_follows_the_data():
    import torch

    from trainables.config import DataConfig
    from trainables.data import load_dataset
    from trainables.data.fingerprint import dataset_fingerprint
    from trainables.dataset_record import dataset_record

    def record(**kw):
        cfg = DataConfig(name="digits", **kw)
        return dataset_record(
            cfg,
            load_dataset(cfg, torch.device("cpu")),
            dataset_fingerprint(cfg)["data.fingerprint"],
        )

    a, again, fewer, other = (
        record(num_classes=5),
        record(num_classes=5),
        record(num_classes=4),
        record(num_classes=5, subset_seed=1),
    )
    assert (
        a["digest"]
        == again["digest"]
        == record(num_classes=5, augment=False, root="/elsewhere")["digest"]
    )
    assert len({a["digest"], fewer["digest"], other["digest"]}) == 3
    assert len(a["digest"]) == 32 and len(a["profile"]["source_fingerprint"]) > 0
    assert (
        a["name"] == "digits C=5"
        and a["profile"]["classes"] == 5
        and a["profile"]["train_images"] > 0
    )
    assert a["source_type"] == "code"


def test_study_names_are_checked_in_study_files_too(cli, tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text("name: ..\ntrials: 1\nbase: {data.name: digits}\nspaces: [lr]\n")
    done = cli("run", "--config", str(config), "--dry-run")
    _rejected(done, "study name '..' is invalid")
    assert Path(config).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("name", ["tpe", "random", "cmaes", "qmc", "nsga2"])
def test_every_sampler_proposes_points_of_the_smoke_space(name):
    """cmaes is a dependency: its sampler runs past its random start-up trials here, not only in a dry run."""
    import optuna

    from search_spaces import compose
    from study.presets import PRESETS
    from study.samplers import SAMPLERS

    fields = PRESETS.get("smoke").build("smoke", "")
    space = compose(fields["spaces"], fields.get("space_options", {}), fields["base"])
    study = optuna.create_study(sampler=SAMPLERS.get(name)(0, {}), direction="maximize")
    for k in range(6):
        trial = study.ask()
        point = space(trial)
        study.tell(trial, 0.5 + 0.01 * k)
    assert len(study.trials) == 6 and point and {"optim.lr"} <= set(study.trials[-1].params)
    if name == "cmaes":
        import sys

        assert "cmaes" in sys.modules  # CMA-ES itself ran, not only its random start-up


@pytest.mark.parametrize("name", ["tpe", "random", "cmaes", "qmc", "nsga2", "grid"])
def test_every_sampler_survives_tunes_pickling_mid_study(name):
    """Tune pickles the search algorithm with its sampler when it saves the experiment (ray's
    cloudpickle, and plain pickle for the searcher's checkpoint); Optuna 5.1's NSGA-II holds a
    thread lock that pickling refuses. The copy must go on proposing points in the same study."""
    import pickle

    import optuna
    from ray import cloudpickle

    from study.samplers import SAMPLERS

    assert set(SAMPLERS.names()) == {"tpe", "random", "cmaes", "qmc", "nsga2", "grid"}
    grid = {"x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
    study = optuna.create_study(sampler=SAMPLERS.get(name)(0, grid), direction="maximize")
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0.1, 0.7))
    study.sampler = pickle.loads(pickle.dumps(cloudpickle.loads(cloudpickle.dumps(study.sampler))))
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0.1, 0.7))
    assert len({t.params["x"] for t in study.trials}) >= 2 and all(
        t.state == optuna.trial.TrialState.COMPLETE for t in study.trials
    )


@pytest.mark.parametrize(
    "flag, value", [("--trials", "3"), ("--sampler", "random"), ("--scheduler", "asha")]
)
def test_the_main_job_refuses_the_flags_its_stages_fix(cli, tmp_path, flag, value):
    """The staged design sets each stage's trials, sampler and scheduler: a flag it would ignore
    gets one line and exit 2, nothing written; other presets still take it."""
    done = cli("run", "--dry-run", flag, value)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{flag} {value}: study scale-vs-classes-cpu runs a staged design" in done.stderr
    assert list(tmp_path.iterdir()) == []
    assert cli("run", "--preset", "smoke", "--dry-run", flag, value).returncode == 0
