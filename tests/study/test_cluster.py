"""Cluster-scale searches on real Ray processes, loopback only: a two-node cluster that loses its
worker mid-study, a driver killed with SIGKILL then resumed, and the cluster configs' schema."""
from __future__ import annotations

import copy
import signal
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from study.clusters.submit_study import command_line
from tests.study.cluster_helpers import (
    kill_group, kill_processes_under, parent_runs, ray_temp_dir, start_study, study_file, trial_runs, wait_for,
)

CLUSTERS = Path(__file__).resolve().parents[2] / "study" / "clusters"


@pytest.mark.parametrize("name", ["aws.yaml", "onprem.yaml"])
def test_cluster_configs_pass_rays_schema(name):
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((CLUSTERS / name).read_text())
    validate_config(prepare_config(copy.deepcopy(config)))
    assert any("pip install" in c and "loss-scale-study" in c for c in config["setup_commands"])
    broken = copy.deepcopy(config)
    broken["max_workers"] = "many"
    with pytest.raises(Exception):
        validate_config(prepare_config(broken))


def test_submit_entry_never_starts_a_local_ray():
    assert command_line(["--preset", "smoke"]) == ["run", "--preset", "smoke", "--address", "auto"]
    assert command_line(["resume", "s1"]) == ["resume", "s1", "--address", "auto"]
    assert command_line(["run", "--address", "10.0.0.1:6379"]) == ["run", "--address", "10.0.0.1:6379"]
    assert command_line(["report", "--out", "r"]) == ["report", "--out", "r"]


def _assert_each_trial_once(store: str, name: str, trials: int) -> None:
    runs = trial_runs(store, name)
    ids = [r.data.tags["trial_id"] for r in runs]
    assert len(runs) == trials and len(set(ids)) == trials, ids
    assert all(r.info.status == "FINISHED" for r in runs), [r.info.status for r in runs]
    assert len(parent_runs(store, name)) == 1


@pytest.mark.slow
def test_study_survives_losing_a_worker_node(tmp_path):
    from ray.cluster_utils import Cluster

    ray_tmp = ray_temp_dir()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "temp_dir": ray_tmp, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = study_file(tmp_path / "study.yaml", "two-nodes", trials=4, epochs=8)
    process = start_study(["run", "--config", str(config), "--address", cluster.address, "--tracking-uri", store,
                           "--storage", str(tmp_path / "results"), "--max-failures", "3",
                           "--checkpoint-every-s", "0"], tmp_path, ray_tmp)  # every epoch: the retry resumes mid-trial
    try:
        wait_for(lambda: sum(r.data.metrics.get("epoch", 0) >= 2 and r.info.status == "RUNNING"
                             for r in trial_runs(store, "two-nodes")) >= 2, 240, "two trials running")
        cluster.remove_node(worker)
        output, _ = process.communicate(timeout=480)
        assert process.returncode == 0, output[-3000:]
        _assert_each_trial_once(store, "two-nodes", 4)
        retried = [r for r in trial_runs(store, "two-nodes") if int(r.data.tags["attempts"]) > 1]
        assert retried, "the trial on the lost node should have been retried in its own run"
        history = MlflowClient(tracking_uri=store).get_metric_history(retried[0].info.run_id, "epoch")
        assert max(m.value for m in history) == 8
        assert list((tmp_path / "results").rglob("trial_state.pt"))  # --checkpoint-every-s 0: a state per trial
    finally:
        if process.poll() is None:
            kill_group(process)
        cluster.shutdown()
        kill_processes_under(ray_tmp)


@pytest.mark.slow
def test_driver_killed_then_resumed_without_duplicates(tmp_path, study_cli):
    ray_tmp = ray_temp_dir()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = study_file(tmp_path / "study.yaml", "killed", trials=5, epochs=6)
    args = ["--tracking-uri", store, "--storage", str(tmp_path / "results")]
    process = start_study(["run", "--config", str(config), *args], tmp_path, ray_tmp)
    try:
        wait_for(lambda: any(r.info.status == "FINISHED" for r in trial_runs(store, "killed")), 240, "a finished trial")
    finally:
        kill_group(process)
        kill_processes_under(ray_tmp)
    before = trial_runs(store, "killed")
    assert 1 <= sum(r.info.status == "FINISHED" for r in before) < 5
    resumed = study_cli("resume", "killed", *args, timeout=480)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    _assert_each_trial_once(store, "killed", 5)
    finished_before = {r.info.run_id for r in before if r.info.status == "FINISHED"}
    assert finished_before <= {r.info.run_id for r in trial_runs(store, "killed")}  # kept, not re-run


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, study_cli):
    ray_tmp = ray_temp_dir()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = study_file(tmp_path / "study.yaml", "interrupted", trials=5, epochs=6)
    args = ["--tracking-uri", store, "--storage", str(tmp_path / "results")]
    process = start_study(["run", "--config", str(config), *args], tmp_path, ray_tmp)
    try:
        wait_for(lambda: any(r.data.metrics.get("epoch", 0) >= 1 for r in trial_runs(store, "interrupted")), 240, "a trial's first epoch")
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
