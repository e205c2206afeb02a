"""Faults inside a study: a diverging trial fails alone, two studies share one sqlite store,
transient tracking errors are retried, and generated configs are run or rejected cleanly."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from study.tracking import retry
from tests.study.cluster_helpers import (
    kill_group,
    kill_processes_under,
    ray_temp_dir,
    start_study,
    trial_runs,
)
from trainables.config import ConfigError, TrialConfig
from trainables.routine import TrialDiverged, train
from trainables.validate import check_names


@pytest.mark.slow
def test_a_nan_trial_fails_with_its_reason_and_the_study_goes_on(
    study_cli, tmp_path, tmp_path_factory
):
    config = tmp_path_factory.mktemp("config") / "nan.yaml"
    config.write_text(
        "name: nan-study\ntrials: 2\nsampler: grid\nscheduler: none\n"
        "base: {data.name: digits, data.augment: false, train.epochs: 2}\n"
        "spaces: [lr]\nspace_options: {lr: {low: 0.01, high: 1.0e+30}}\n"
        "grid: {optim.lr: [0.01, 1.0e+30]}\n"
    )
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = study_cli(
        "run", "--config", str(config), "--tracking-uri", store, "--storage", str(tmp_path / "r")
    )
    assert done.returncode == 4, done.stderr[-3000:]  # some trials failed (study.cli.EXIT_CODES)
    assert "2 trials, 1 failed" in done.stdout and "1 of 2 trials failed" in done.stderr
    runs = {float(r.data.params["optim.lr"]): r for r in trial_runs(store, "nan-study")}
    assert runs[1e30].info.status == "FAILED"
    assert runs[1e30].data.tags["trial_status"] == "failed"
    assert "TrialDiverged" in runs[1e30].data.tags["failure_reason"]
    assert runs[0.01].info.status == "FINISHED" and runs[0.01].data.metrics["val_accuracy"] > 0.5


@pytest.mark.slow
def test_two_studies_write_one_sqlite_store_at_once(tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    temps = [ray_temp_dir(), ray_temp_dir()]
    runs = [
        start_study(
            [
                "run",
                "--preset",
                "smoke",
                "--trials",
                "2",
                "--name",
                name,
                "--tracking-uri",
                store,
                "--storage",
                str(tmp_path / "results"),
                "--max-concurrent",
                "1",
            ],
            tmp_path,
            temp,
        )
        for name, temp in zip(("left", "right"), temps)
    ]
    try:
        outputs = [p.communicate(timeout=600)[0] for p in runs]
    finally:
        for process, temp in zip(runs, temps):
            if process.poll() is None:
                kill_group(process)
            kill_processes_under(temp)
    assert [p.returncode for p in runs] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    for name in ("left", "right"):
        finished = [r for r in trial_runs(store, name) if r.info.status == "FINISHED"]
        assert len(finished) == 2
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_transient_tracking_errors_are_retried():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OSError("database is locked")
        return "logged"

    assert retry(flaky) == "logged" and len(calls) == 3


def test_a_persistent_tracking_error_is_raised_not_swallowed(monkeypatch):
    monkeypatch.setattr("study.tracking.RETRY_DELAYS_S", (0.0, 0.0))
    with pytest.raises(OSError):
        retry(lambda: (_ for _ in ()).throw(OSError("gone")))


FLAT_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "loss.output": st.sampled_from(
            [
                "ce",
                "normface",
                "cosface",
                "arcface",
                "bce",
                "mse",
                "softtriple",
                "sphereface",
                "center",
            ]
        ),
        "loss.params.margin_rad": st.one_of(st.floats(-1, 2), st.text(max_size=3)),
        "scale.start": st.one_of(st.floats(-5, 80), st.just("big")),
        "scale.schedule": st.sampled_from(
            ["constant", "linear", "step", "quadratic", "cosine", "wiggly"]
        ),
        "train.epochs": st.one_of(st.integers(-1, 2), st.floats(0, 2)),
        "loss.terms.pc.weight": st.floats(-0.1, 0.1),
        "loss.terms.pc.classes": st.sampled_from(["all", "head", "tail", "0,1", "x"]),
        "optim.name": st.sampled_from(["sgd", "adam", "sgd_momentum", "rmsprop"]),
        "model.embedding_dim": st.integers(0, 16),
        "no.such": st.integers(),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FLAT_VALUES)
def test_generated_configs_run_or_are_rejected_cleanly(flat):
    flat = {"data.name": "digits", "data.augment": False, "train.batch_size": 256, **flat}
    try:
        cfg = TrialConfig.from_flat(flat)
        check_names(cfg)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    cfg = cfg.replace(train__epochs=1)
    history = []
    try:
        train(cfg, history.append)
    except TrialDiverged:
        return  # a clean, named failure of that trial
    assert len(history) == 1 and 0.0 <= history[0]["val_accuracy"] <= 1.0
