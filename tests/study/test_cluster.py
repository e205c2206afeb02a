"""Cluster-scale searches on real Ray processes, loopback only: a driver killed with SIGKILL then
resumed, and Ctrl-C. A `ray start` cluster losing its worker node mid-study is in
test_cluster_connect.py, the cluster configs in test_cluster_configs.py."""

from __future__ import annotations

import signal

import pytest

from tests.study.cluster_helpers import (
    kill_group,
    kill_processes_under,
    parent_runs,
    ray_temp_dir,
    start_study,
    study_file,
    trial_runs,
    wait_for,
)


def _assert_each_trial_once(store: str, name: str, trials: int) -> None:
    runs = trial_runs(store, name)
    ids = [r.data.tags["trial_id"] for r in runs]
    assert len(runs) == trials and len(set(ids)) == trials, ids
    assert all(r.info.status == "FINISHED" for r in runs), [r.info.status for r in runs]
    assert len(parent_runs(store, name)) == 1


@pytest.mark.slow
def test_driver_killed_then_resumed_without_duplicates(tmp_path, study_cli):
    ray_tmp = ray_temp_dir()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = study_file(tmp_path / "study.yaml", "killed", trials=5, epochs=6)
    args = ["--tracking-uri", store, "--storage", str(tmp_path / "results")]
    process = start_study(["run", "--config", str(config), *args], tmp_path, ray_tmp)
    try:
        wait_for(
            lambda: any(r.info.status == "FINISHED" for r in trial_runs(store, "killed")),
            240,
            "a finished trial",
        )
    finally:
        kill_group(process)
        kill_processes_under(ray_tmp)
    before = trial_runs(store, "killed")
    assert 1 <= sum(r.info.status == "FINISHED" for r in before) < 5
    resumed = study_cli("resume", "killed", *args, timeout=480)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    _assert_each_trial_once(store, "killed", 5)
    finished_before = {r.info.run_id for r in before if r.info.status == "FINISHED"}
    # kept, not re-run
    assert finished_before <= {r.info.run_id for r in trial_runs(store, "killed")}


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, study_cli):
    ray_tmp = ray_temp_dir()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = study_file(tmp_path / "study.yaml", "interrupted", trials=5, epochs=6)
    args = ["--tracking-uri", store, "--storage", str(tmp_path / "results")]
    process = start_study(["run", "--config", str(config), *args], tmp_path, ray_tmp)
    try:
        wait_for(
            lambda: any(
                r.data.metrics.get("epoch", 0) >= 1 for r in trial_runs(store, "interrupted")
            ),
            240,
            "a trial's first epoch",
        )
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            kill_group(process)
        kill_processes_under(ray_tmp)
    assert process.returncode == 130, output[-3000:]
    assert "Resume with: study resume interrupted" in output
    resumed = study_cli("resume", "interrupted", *args, timeout=480)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    _assert_each_trial_once(store, "interrupted", 5)
