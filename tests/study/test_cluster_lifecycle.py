"""The user's path on a real cluster, run on this machine: `ray up` with the shipped
study/clusters/onprem.yaml (Ray's `local` provider) over SSH to 127.0.0.1, docs/cluster.md's
`ray submit --tmux ... study/clusters/submit_study.py -- ARGS`, the head's MLflow server found
with `ray exec` and read through an SSH tunnel, then `ray down`, after which the records remain.

The node is a dedicated unprivileged user with an sshd of its own (tests/study/ssh_node.py);
its MLflow server records into a throwaway PostgreSQL given in tracking.env (the head has no sudo
to install one). `ray start --head` + `study run --address` in separate processes, without the
launcher, is tests/study/test_cluster_connect.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.study.cluster_helpers import (
    RAY,
    ROOT,
    Postgres,
    free_port,
    parent_runs,
    trial_runs,
    wait_for,
)
from tests.study.ssh_node import USER, SshNode, cmdline, kill, processes_of, ray_ssh_control_dir

pytestmark = pytest.mark.slow

CLUSTERS = ROOT / "study" / "clusters"
SUBMIT = ["--preset", "smoke", "--trials", "2"]
EXPERIMENT = "smoke-smoke"  # PRESET-SIZE


def loopback_config(node: SshNode, tracking_env: Path, head_port: int) -> dict:
    """The shipped onprem.yaml, changed only where this machine differs from the machines it
    describes: the addresses (one machine, 127.0.0.1, and no workers: a worker on the same
    machine as the same user would `ray stop` the head), the user and key, the tracking.env
    (the checkout's own study/clusters/tracking.env is the user's; the test writes none there),
    and the head, which as the only node runs the trials (2 CPUs, not 0) on a free port."""
    config = yaml.safe_load((CLUSTERS / "onprem.yaml").read_text())
    config["provider"].update(head_ip="127.0.0.1", worker_ips=[])
    config["min_workers"] = config["max_workers"] = 0
    config["auth"] = {"ssh_user": USER, "ssh_private_key": str(node.key)}
    if node.proxy_command():
        config["auth"]["ssh_proxy_command"] = node.proxy_command()
    assert "~/study-tracking.env" in config["file_mounts"]
    config["file_mounts"]["~/study-tracking.env"] = str(tracking_env)
    head = [
        c.replace("--num-cpus=0", "--num-cpus=2").replace("--port=6379", f"--port={head_port}")
        for c in config["head_start_ray_commands"]
    ]
    assert head != config["head_start_ray_commands"], (
        "the shipped head command changed: update this test"
    )
    config["head_start_ray_commands"] = head
    return config


def tracking_env(path: Path, database: str, port: int) -> Path:
    """study/clusters/tracking.env.example filled in as its comments say."""
    text = (CLUSTERS / "tracking.env.example").read_text()
    for name, value in (("MLFLOW_BACKEND_STORE_URI", database), ("MLFLOW_PORT", str(port))):
        text, found = re.subn(rf"^{name}=.*$", f"{name}={value}", text, flags=re.M)
        assert found == 1, name
    path.write_text(text + "MLFLOW_WORKERS=1\n")
    return path


def launcher_env(home: Path) -> dict:
    """The invoking side, as a user's shell, but with a home of its own: `ray get-auth-token
    --generate` writes ~/.ray/auth_token, which must not be the invoking user's real one."""
    for sub in ("tmp", "raytmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        HOME=str(home),
        TMPDIR=str(home / "tmp"),
        RAY_TMPDIR=str(home / "raytmp"),
        RAY_USAGE_STATS_ENABLED="0",
        PATH=f"{Path(RAY).parent}:{os.environ.get('PATH', '')}",
    )
    for name in (
        "RAY_ADDRESS",
        "RAY_AUTH_MODE",
        "RAY_AUTH_TOKEN",
        "RAY_AUTH_TOKEN_PATH",
        "MLFLOW_TRACKING_URI",
    ):
        env.pop(name, None)
    return env


def ray(*args: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RAY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def said(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"


class Diagnostics:
    """What the head says, for a failure message: the tmux pane of `ray submit --tmux`, the MLflow
    server's log, Ray's logs."""

    def __init__(self, node: SshNode) -> None:
        self.node = node

    def __str__(self) -> str:
        pane = self.node.run_as("tmux", "capture-pane", "-p", "-S", "-200", timeout=30)
        parts = [f"--- tmux pane:\n{pane.stdout[-5000:]}{pane.stderr[-500:]}"]
        for name in ("mlflow-server.log",):
            path = self.node.home / name
            if path.exists():
                parts.append(f"--- ~/{name}:\n{path.read_text()[-3000:]}")
        return "\n".join(parts)


def test_ray_up_submit_and_down_on_the_shipped_onprem_config(tmp_path):
    reason = SshNode.unavailable()
    if reason:
        pytest.skip(reason)
    postgres = Postgres()
    reason = postgres.start()
    if reason:
        postgres.stop()
        pytest.skip(reason)
    node = SshNode(tmp_path)
    env = launcher_env(tmp_path / "home")
    mux = ray_ssh_control_dir(
        yaml.safe_load((CLUSTERS / "onprem.yaml").read_text())["cluster_name"]
    )
    mux_before = {p for p in processes_of(0) if cmdline(p).startswith(f"ssh: {mux}")}
    mux_dirs = [d for d in (Path(mux), Path(mux).parent) if not d.exists()]
    tunnel = None
    try:
        node.start()
        node.venv_reusing_this_one()
        # a machine shared with other Ray users: this user's Ray keeps its files apart from /tmp/ray
        node.prepend_to_bashrc('export RAY_TMPDIR="$HOME/rt"')
        config = tmp_path / "onprem.yaml"
        config.write_text(
            yaml.safe_dump(
                loopback_config(
                    node,
                    tracking_env(tmp_path / "tracking.env", postgres.uri, free_port()),
                    free_port(),
                )
            )
        )

        # the YAML's header: the cluster's token
        done = ray("get-auth-token", "--generate", env=env, timeout=120)
        assert done.returncode == 0 and (tmp_path / "home" / ".ray" / "auth_token").exists(), said(
            done
        )

        started = time.monotonic()
        done = ray("up", "-y", str(config), env=env, timeout=900)
        assert done.returncode == 0, said(done)
        up_s = time.monotonic() - started

        done = ray("exec", str(config), "cat ~/mlflow-server.url", env=env, timeout=120)
        urls = re.findall(r"http://[0-9.]+:\d+", done.stdout)
        assert done.returncode == 0 and urls, said(done)
        host, port = urls[-1][len("http://") :].split(":")
        local = free_port()  # docs/cluster.md's tunnel to the server's private address
        tunnel = subprocess.Popen(
            ["ssh", *node.ssh_options(), "-N", "-L", f"{local}:{host}:{port}", f"{USER}@127.0.0.1"],
            start_new_session=True,
        )
        server = f"http://127.0.0.1:{local}"

        done = ray(
            "submit",
            "--tmux",
            str(config),
            "study/clusters/submit_study.py",
            "--",
            *SUBMIT,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, said(done)

        def finished() -> bool:
            study = parent_runs(server, EXPERIMENT)
            return bool(study) and all(
                r.info.status in ("FINISHED", "FAILED", "KILLED") for r in study
            )

        try:
            wait_for(
                finished,
                600,
                "the study's parent run to end in the head's MLflow server",
                every_s=3,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{Diagnostics(node)}") from None
        study, trials = parent_runs(server, EXPERIMENT), trial_runs(server, EXPERIMENT)
        assert [r.info.status for r in study] == ["FINISHED"], Diagnostics(node)
        assert len(trials) == 2 and all(r.info.status == "FINISHED" for r in trials), Diagnostics(
            node
        )
        assert all(0 <= r.data.metrics["val_accuracy"] <= 1 for r in trials)
        assert len({r.data.tags["trial_id"] for r in trials}) == 2
        history = MlflowClient(server).get_metric_history(trials[0].info.run_id, "epoch")
        assert len(history) >= 1

        done = ray("down", "-y", str(config), env=env, timeout=300)
        assert done.returncode == 0, said(done)
        ray_left = [
            p for p in processes_of(node.uid) if re.search(r"raylet|gcs_server|ray::", cmdline(p))
        ]
        assert not ray_left, [cmdline(p) for p in ray_left]
        kept = trial_runs(postgres.uri, EXPERIMENT)  # `ray down` keeps the records
        assert sorted(r.info.run_id for r in kept) == sorted(r.info.run_id for r in trials)
        print(f"ray up took {up_s:.0f} s")
    finally:
        if tunnel is not None:
            kill([tunnel.pid])
            tunnel.wait(timeout=30)
        node.stop()
        postgres.stop()
        # Ray's ssh ControlMaster processes for this cluster, left when their sessions died
        kill(
            [
                p
                for p in processes_of(0)
                if cmdline(p).startswith(f"ssh: {mux}") and p not in mux_before
            ]
        )
        for directory in mux_dirs:  # and their socket directories, when this test made them
            shutil.rmtree(directory, ignore_errors=True)
