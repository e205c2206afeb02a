"""What a finished study leaves in MLflow and Optuna, read back the way their users read it: the
experiment opens on the training runs, runs are named and tagged, the parent run has a description,
the best value and a summary, the dataset is an input with a digest, per-class recall is a table,
system metrics are logged on request, the Optuna study opens with ``optuna.load_study`` and in
optuna-dashboard; then the exit codes of a study whose trials all failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import ROOT
from tests.study.test_tracking_stores import MLFLOW, free_port, wait_http

TRIALS = 2


@pytest.fixture(scope="module")
def smoke_study(tmp_path_factory):
    """One smoke study of two trials with system metrics (sampled every second), then its report."""
    home = tmp_path_factory.mktemp("records")
    store = f"sqlite:///{home / 'mlflow.db'}"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL="1",
    )
    cli = [sys.executable, "-m", "study.cli"]
    done = subprocess.run(
        [
            *cli,
            "run",
            "--preset",
            "smoke",
            "--trials",
            str(TRIALS),
            "--tracking-uri",
            store,
            "--storage",
            str(home / "results"),
            "--system-metrics",
            "--scheduler",
            "none",
        ],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    reported = subprocess.run(
        [*cli, "report", "--tracking-uri", store, "--out", str(home / "report")],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert reported.returncode == 0, reported.stderr[-3000:]
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("smoke-smoke")
    runs = client.search_runs([experiment.experiment_id])
    return {
        "home": home,
        "store": store,
        "env": env,
        "client": client,
        "experiment": experiment,
        "done": done,
        "parent": next(r for r in runs if r.data.tags.get("role") == "study"),
        "trials": [r for r in runs if r.data.tags.get("role") != "study"],
    }


@pytest.mark.slow
def test_experiment_and_runs_read_as_a_training_study(smoke_study):
    experiment, parent, trials = (
        smoke_study["experiment"],
        smoke_study["parent"],
        smoke_study["trials"],
    )
    # the runs table, not GenAI
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "head_type, constant_scale, lr" in experiment.tags["mlflow.note.content"]
    # HEAD when the study started (others may commit since)
    commit = parent.data.tags["mlflow.source.git.commit"]
    known = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-t", commit], capture_output=True, text=True
    )
    assert known.stdout.strip() == "commit", commit
    assert len(trials) == TRIALS
    for run in [parent, *trials]:
        tags = run.data.tags
        assert tags["mlflow.source.git.commit"] == commit and tags["mlflow.user"]
        assert tags["mlflow.source.name"].startswith("study run --preset smoke")
    for run in trials:
        params = run.data.params
        scale = (
            f"s={float(params['scale.start']):.3g} " if params["loss.output"] == "normface" else ""
        )
        assert run.info.run_name == f"C=all {params['loss.output']} {scale}seed=0"
        assert run.data.tags["trial_name"].startswith("trainable_")  # Ray Tune's name, for its logs


@pytest.mark.slow
def test_the_parent_run_holds_description_best_value_summary_and_report(smoke_study):
    client, parent, trials = smoke_study["client"], smoke_study["parent"], smoke_study["trials"]
    # among the trials that ran their whole budget: ASHA's early stops are another fidelity
    whole = [r for r in trials if r.data.tags["trial_status"] == "finished"]
    best = max(whole, key=lambda r: r.data.metrics["val_accuracy"])
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(
        best.data.metrics["val_accuracy"]
    )
    assert parent.data.tags["best_run_id"] == best.info.run_id
    assert parent.data.metrics["trials"] == TRIALS and parent.data.metrics["trials_failed"] == 0
    assert "sampler `tpe`" in parent.data.tags["mlflow.note.content"]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert "summary.md" in artifacts
    summary = Path(
        client.download_artifacts(parent.info.run_id, "summary.md", str(smoke_study["home"]))
    ).read_text()
    assert best.info.run_id in summary and "smoke-smoke" in summary
    attached = {a.path for a in client.list_artifacts(parent.info.run_id, "report")}
    assert {"report/report.html", "report/report.md", "report/report.json"} <= attached


@pytest.mark.slow
def test_trials_record_their_dataset_per_class_table_and_system_metrics(smoke_study):
    client, trials = smoke_study["client"], smoke_study["trials"]
    digests = set()
    for run in trials:
        (dataset,) = [d.dataset for d in run.inputs.dataset_inputs]
        assert (
            dataset.name == "digits C=10"
            and dataset.source_type == "code"
            and len(dataset.digest) == 32
        )
        profile = json.loads(dataset.profile)
        assert (
            profile["classes"] == 10
            and profile["source_fingerprint"] == run.data.tags["data.fingerprint"]
        )
        digests.add(dataset.digest)
        # a table, not one metric per class
        assert not [m for m in run.data.metrics if m.startswith("test_class_")]
        assert "system/cpu_utilization_percentage" in run.data.metrics
        assert "per_class_recall.csv" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert len(digests) == 1  # both trials trained on the same data
    groups = smoke_study["home"] / "report" / "figures" / "smoke-smoke-groups.png"
    assert groups.stat().st_size > 10_000  # the per-class bars, drawn from the CSV artifact


@pytest.mark.slow
def test_the_optuna_study_opens_with_load_study_and_in_the_dashboard(smoke_study):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    journal = smoke_study["home"] / "optuna.journal"  # beside mlflow.db
    study = optuna.load_study(
        study_name="smoke-smoke", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    assert len(study.trials) == TRIALS
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    values = sorted(t.value for t in study.trials)
    recorded = sorted(r.data.metrics["val_accuracy"] for r in smoke_study["trials"])
    assert values == pytest.approx(recorded)
    assert study.user_attrs["mlflow_experiment"] == "smoke-smoke"

    port = free_port()
    dashboard = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "study.cli",
            "dashboard",
            "--tracking-uri",
            smoke_study["store"],
            "--port",
            str(port),
        ],
        cwd=smoke_study["home"],
        env=smoke_study["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert f"http://127.0.0.1:{port}" in dashboard.stdout.readline()
        wait_http(f"http://127.0.0.1:{port}/api/studies")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=10) as reply:
            names = [s["study_name"] for s in json.load(reply)["study_summaries"]]
        assert names == ["smoke-smoke"]
    finally:
        os.killpg(dashboard.pid, signal.SIGTERM)
        dashboard.wait(timeout=30)


@pytest.mark.slow
def test_ui_of_a_tracking_server_prints_its_url(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            MLFLOW,
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{uri}/health", timeout_s=300)  # a busy 2-core machine starts a server slowly
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "study.cli", "ui", "--tracking-uri", uri],
            cwd=tmp_path,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert f"its UI is at {uri}/" in done.stdout
        assert time.monotonic() - started < 60  # it printed and returned instead of serving
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.slow
def test_a_study_whose_trials_all_failed_exits_3(study_cli, tmp_path):
    config = tmp_path / "diverge.yaml"
    config.write_text(
        "name: all-diverge\ntrials: 1\nsampler: grid\nscheduler: none\n"
        "base: {data.name: digits, data.num_classes: 4, data.augment: false, train.epochs: 1}\n"
        "spaces: [lr]\nspace_options: {lr: {low: 1.0e+29, high: 1.0e+30}}\ngrid: {optim.lr: [1.0e+30]}\n"
    )
    done = study_cli(
        "run",
        "--config",
        str(config),
        "--tracking-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--storage",
        str(tmp_path / "r"),
    )
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-3000:]
    assert "every trial failed (1)" in done.stderr
    assert "nan" not in done.stdout.lower()  # the progress line shows no best value instead of NaN
