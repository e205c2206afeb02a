"""`study trend`, `study replay` and `study report` in process, against real MLflow sqlite stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from synthetic_study import fill_store, synthetic_trials, trial_params

from study.analysis_commands import flat_config
from study.cli import main


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    # MLflow may log its own lines
    ours = [line for line in err.splitlines() if line.startswith("study:")]
    assert len(ours) == 1 and ours[0].startswith("study: error: ") and match in ours[0], err


def test_trend_writes_the_fit_and_its_figures(small_store, tmp_path, capsys):
    assert (
        main(
            [
                "trend",
                "--tracking-uri",
                small_store["uri"],
                "--out",
                str(tmp_path),
                "--bootstrap",
                "100",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "C=5 " in out and "C=100" in out and "s*(C) = " in out and "AdaCos" in out
    data = json.loads((tmp_path / "trend.json").read_text())
    (trend,) = data["trends"]
    assert trend["fit"]["n_points"] == 3 and [o["num_classes"] for o in trend["optima"]] == [
        5,
        20,
        100,
    ]
    assert trend["adacos"]["a"] == pytest.approx(2**0.5)
    assert trend["power_law"]["n_points"] == 3 and "power law s*(C) = " in out
    assert "resolves slopes" in out and trend["fit"]["resolution_a"] > 0
    assert {r["scale"] for r in trend["reference"]} == {15.0, 20.0}
    for name in (
        "trend.png",
        "trend.svg",
        "scale-vs-classes-smoke-scale_curves.png",
        "scale-vs-classes-smoke-scale_curves.svg",
    ):
        assert (tmp_path / name).stat().st_size > 0


def test_trend_with_two_class_counts_reports_the_points_only(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'two.db'}"
    fill_store(uri, synthetic_trials(class_counts=(10, 100), per_class=3), experiment="two-counts")
    assert (
        main(["trend", "--tracking-uri", uri, "--out", str(tmp_path / "out"), "--bootstrap", "20"])
        == 0
    )
    out = capsys.readouterr().out
    table = [
        line.split() for line in out.splitlines() if line.strip().split(" ")[0] in ("10", "100")
    ]
    assert [row[:2] for row in table] == [["10", "3"], ["100", "3"]]  # the per-C table: C, trials
    assert sum("law not fitted" in line for line in out.splitlines()) == 1 and "need >= 3" in out
    (trend,) = json.loads((tmp_path / "out" / "trend.json").read_text())["trends"]
    assert trend["fit"] is None and [o["num_classes"] for o in trend["optima"]] == [10, 100]


def test_trend_and_report_errors_are_one_line(small_store, tmp_path, capsys):
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    _one_line_error(
        capsys,
        ["trend", "--tracking-uri", missing, "--out", str(tmp_path)],
        "no MLflow store there yet",
    )
    assert not (tmp_path / "missing.db").exists()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    MlflowClient(tracking_uri=empty).create_experiment("nothing-yet")
    _one_line_error(
        capsys, ["trend", "--tracking-uri", empty, "--out", str(tmp_path)], "holds no trial runs"
    )
    _one_line_error(
        capsys, ["report", "--tracking-uri", empty, "--out", str(tmp_path)], "holds no trial runs"
    )
    _one_line_error(
        capsys,
        ["trend", "--tracking-uri", small_store["uri"], "--experiment", "nope"],
        "no experiment named 'nope'",
    )
    _one_line_error(
        capsys,
        ["trend", "--tracking-uri", small_store["uri"], "--metric", "nope"],
        "recorded no metric 'nope'",
    )
    out = tmp_path / "report-out"
    _one_line_error(
        capsys,
        ["report", "--tracking-uri", small_store["uri"], "--metric", "nope", "--out", str(out)],
        "--metric nope: no trial recorded it; the trials recorded: ",
    )
    assert not out.exists()  # nothing written, and nothing attached to the parent run
    with pytest.raises(SystemExit) as exited:  # argparse refuses it, as any bad flag value
        main(["trend", "--tracking-uri", small_store["uri"], "--bandwidth", "0"])
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "--bandwidth: 0 is not positive and finite; expected a positive number" in line


def test_report_prints_the_best_trial_and_its_replay_command(small_store, tmp_path, capsys):
    assert (
        main(
            ["report", "--tracking-uri", small_store["uri"], "--out", str(tmp_path), "--no-figures"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "replay: study replay " in out and f"--tracking-uri {small_store['uri']}" in out
    assert {p.name for p in tmp_path.iterdir()} == {"report.md", "report.html", "report.json"}


def test_recorded_params_rebuild_the_trial_config(small_store):
    from analysis.load import load_run
    from trainables.config import TrialConfig

    record = load_run(small_store["uri"], small_store["FAILED"])
    rebuilt = TrialConfig.from_flat(flat_config(record.params))
    assert rebuilt == TrialConfig.from_flat(trial_params(10, 4.0))
    changed = TrialConfig.from_flat(
        flat_config(record.params, ["train.epochs=3", "loss.params.margin_cos=0.2"])
    )
    assert changed.train.epochs == 3 and changed.loss.params["margin_cos"] == 0.2


def test_replay_errors_are_one_line(small_store, capsys):
    client = MlflowClient(tracking_uri=small_store["uri"])
    (parent,) = client.search_runs(
        [client.get_experiment_by_name("scale-vs-classes-smoke").experiment_id],
        filter_string="tags.role = 'study'",
    )
    uri = small_store["uri"]
    _one_line_error(capsys, ["replay", "0" * 32, "--tracking-uri", uri], "no run")
    _one_line_error(
        capsys, ["replay", parent.info.run_id, "--tracking-uri", uri], "is the parent run of study"
    )
    _one_line_error(
        capsys,
        ["replay", small_store["FAILED"], "--tracking-uri", uri, "--set", "oops"],
        "expected KEY=VALUE",
    )
    _one_line_error(
        capsys,
        ["replay", small_store["FAILED"], "--tracking-uri", uri, "--set", "scale.start=-1"],
        "scale.start",
    )


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("loss.output=nope", "loss.output='nope' is unknown; choose one of:"),
        ("data.name=nope", "data.name='nope' is unknown; choose one of:"),
        ("loss.params.margin_deg=3", "loss.params.margin_deg is unknown"),
        ("data.name=mnist", "mnist"),  # not on disk under data.root
        ("data.num_classes=100000", "data.num_classes"),
    ],
)
def test_replay_checks_its_overrides_as_study_run_does(small_store, tmp_path, override, fragment):
    """A bad --set is one line and exit 2, from a new process as a user runs it, and nothing is
    written where it runs."""
    from tests.conftest import run_study_cli

    args = ["replay", small_store["FAILED"], "--tracking-uri", small_store["uri"]]
    extra = ["--set", f"data.root={tmp_path / 'no-data'}"] if "mnist" in override else []
    done = run_study_cli(*args, "--set", override, *extra, cwd=tmp_path, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_replay_trains_the_recorded_trial_without_the_search(small_store, capsys):
    run_id = next(iter(small_store["ids"].values()))
    assert main(["replay", run_id, "--tracking-uri", small_store["uri"]]) == 0
    out = capsys.readouterr().out
    assert f"replaying run {run_id}" in out and "epoch 1/1" in out
    assert "val_accuracy: recorded" in out and "test_accuracy: recorded" in out


def test_report_attaches_its_files_beside_the_store_not_in_the_working_directory(
    small_store, tmp_path
):
    """`study report` attaches report/ to the study's parent run: the artifacts go where the
    experiment keeps them (beside the store), never to ./mlruns of the directory the tests (which
    create the experiment) run from."""
    from tests.conftest import run_study_cli

    workdir = tmp_path / "cwd"
    workdir.mkdir()
    out = tmp_path / "reports"
    done = run_study_cli(
        "report",
        "--tracking-uri",
        small_store["uri"],
        "--out",
        str(out),
        "--no-figures",
        cwd=workdir,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "attached the report" in done.stdout
    assert list(workdir.iterdir()) == []
    store_dir = Path(small_store["uri"][len("sqlite:///") :]).parent
    attached = list(store_dir.glob("mlartifacts/*/*/artifacts/report/report.md"))
    assert attached, "the report was not attached beside the store"


@pytest.mark.parametrize("command", ["report", "trend", "ui"])
@pytest.mark.parametrize(
    "uri, said",
    [
        ("file:///{tmp}/new-store", "no MLflow store there yet"),
        ("new-store", "no MLflow store there yet"),
        ("mlflow.db", "use sqlite:///mlflow.db"),
        ("", "--tracking-uri is empty"),
    ],
)
def test_reading_commands_never_create_a_store(cli, tmp_path, command, uri, said):
    """A file store that is not there, a bare path (a file store too), a sqlite file named without
    its scheme and an empty URI: one line, exit 2, and no store appears."""
    (tmp_path / "mlflow.db").write_bytes(b"")  # a file where a bare path would name a directory
    before = sorted(p.name for p in tmp_path.iterdir())
    done = cli(command, "--tracking-uri", uri.format(tmp=tmp_path))
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
