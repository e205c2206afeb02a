"""The same study recorded in a file store and on a remote MLflow server; `study ui` serves the store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.study.cluster_helpers import kill_group, trial_runs

MLFLOW = str(Path(sys.executable).with_name("mlflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout_s} s")


@pytest.mark.slow
def test_remote_tracking_server_records_every_trial(study_cli, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            MLFLOW,
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{uri}/health")
        done = study_cli(
            "run",
            "--preset",
            "smoke",
            "--trials",
            "2",
            "--tracking-uri",
            uri,
            "--storage",
            str(tmp_path / "results"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        runs = trial_runs(uri, "smoke-smoke")
        assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
        finished = [r for r in runs if r.data.tags["trial_status"] == "finished"]
        for run in finished:
            assert "confusion_matrix.png" in {
                a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)
            }
    finally:
        kill_group(server)


@pytest.mark.slow
def test_file_store_records_every_trial(study_cli, tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    done = study_cli(
        "run",
        "--preset",
        "smoke",
        "--trials",
        "2",
        "--tracking-uri",
        uri,
        "--storage",
        str(tmp_path / "r"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    assert len(trial_runs(uri, "smoke-smoke")) == 2


def test_ui_serves_the_store_on_loopback(tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(store).create_experiment("listed")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    ui = subprocess.Popen(
        [sys.executable, "-m", "study.cli", "ui", "--tracking-uri", store, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert f"http://127.0.0.1:{port}" in ui.stdout.readline()
        wait_http(f"http://127.0.0.1:{port}/health")
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/experiments/search?max_results=10"
        ) as reply:
            assert b"listed" in reply.read()
    finally:
        kill_group(ui)
