"""Joining a cluster the way a user does, on loopback with real parts: `ray start` nodes in their
own processes (Ray's token authentication on), `study run --address` as another process,
recording through `mlflow server` over http backed by PostgreSQL; and, before anything runs,
the stores and addresses a cluster cannot use refused on one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.study.cluster_helpers import (
    ROOT,
    MlflowServer,
    Postgres,
    RayStartCluster,
    free_port,
    kill_group,
    trial_runs,
    wait_for,
)


def run_cli(
    *args: str, cwd: Path, env: dict | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **(env or {}))
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "MLFLOW_TRACKING_URI"):
        if name not in (env or {}):
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_refused(done, fragment: str, workdir: Path) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert list(workdir.iterdir()) == [], "something was written"


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_a_cluster_refuses_a_store_on_one_disk(cli, tmp_path, kind):
    uri = (
        f"sqlite:///{tmp_path / 'mlflow.db'}"
        if kind == "sqlite"
        else (tmp_path / "mlruns").as_uri()
    )
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--address",
        "10.9.8.7:6379",
        "--tracking-uri",
        uri,
        "--storage",
        str(tmp_path / "results"),
    )
    assert_refused(done, f"a {kind} store is a file on one machine", tmp_path)
    assert "http://HEAD_IP:5000" in done.stderr and "postgresql://" in done.stderr


def test_ray_address_is_the_default_address(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "10.9.8.7:6379")
    # the default store: sqlite
    done = cli("run", "--preset", "smoke", "--storage", str(tmp_path / "results"))
    assert_refused(
        done, "with --address 10.9.8.7:6379 each node would record into its own copy", tmp_path
    )


@pytest.mark.parametrize(
    "address, env, fragment",
    [
        (
            "auto",
            {"RAY_TMPDIR": "EMPTY"},
            "--address auto: no running Ray cluster found on this machine",
        ),
        ("ray://10.9.8.7:10001", {}, "Ray Client (ray://) is not supported"),
        ("10.9.8.7", {}, "'10.9.8.7' is not HOST:PORT"),
    ],
)
def test_addresses_without_a_cluster_fail_on_one_line(
    cli, tmp_path, tmp_path_factory, monkeypatch, address, env, fragment
):
    for name, value in env.items():
        monkeypatch.setenv(
            name, str(tmp_path_factory.mktemp("raytmp")) if value == "EMPTY" else value
        )
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--address",
        address,
        "--tracking-uri",
        "http://127.0.0.1:9",
        "--storage",
        str(tmp_path / "results"),
    )
    assert_refused(done, fragment, tmp_path)


def test_an_unreachable_database_fails_on_one_line(cli, tmp_path):
    done = cli(
        "run",
        "--preset",
        "smoke",
        "--tracking-uri",
        "postgresql://mlflow:secret@127.0.0.1:9/mlflow",
        "--storage",
        str(tmp_path / "results"),
    )
    assert_refused(done, "the database cannot be opened", tmp_path)
    assert "secret" not in done.stderr  # the password is not echoed


EPOCHS = 6
GROUPS_STUDY = """\
name: {name}
trials: {trials}
base: {{data.name: glyphs, data.image_size: 16, data.max_per_class: 40, loss.output: normface,
       optim.name: adam, optim.lr: 0.003, train.epochs: {epochs}}}
groups: [{{data.num_classes: 5}}, {{data.num_classes: 10}}]
spaces: [constant_scale]
scheduler: none
sampler: random
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """PostgreSQL, an MLflow server on it, and a two-node `ray start` cluster with token auth."""
    root = tmp_path_factory.mktemp("services")
    postgres = Postgres()
    reason = postgres.start()
    if reason:
        postgres.stop()
        pytest.skip(reason)
    token = root / "auth_token"
    token.write_text("loopback-test-token-" + "0123456789abcdef" * 2)
    server = MlflowServer(postgres.uri, root / "artifacts")
    cluster = RayStartCluster(token)
    try:
        server.start()
        cluster.start_head()
        cluster.add_worker()
        yield {"server": server, "cluster": cluster, "token": token, "postgres": postgres}
    finally:
        cluster.stop()
        server.stop()
        postgres.stop()


def _driver_env(cluster: RayStartCluster, token: Path) -> dict:
    # as a user's shell: the token file exists, RAY_AUTH_MODE is not set
    return {"RAY_TMPDIR": cluster.temp, "RAY_AUTH_TOKEN_PATH": str(token)}


def _kill_node(raylet: int) -> None:
    """SIGKILL a worker node: its raylet and the worker processes it started."""
    children = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[
                1
            ] == str(raylet):
                children.append(int(pid))
        except (OSError, IndexError):
            continue
    for pid in (raylet, *children):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_a_two_node_cluster_records_every_trial_once_through_faults(services, tmp_path):
    """`study run --address HOST:PORT` on a `ray start` cluster; meanwhile its worker node is killed
    twice (and started again) and the MLflow server is killed and restarted once. Every planned trial
    ends in the PostgreSQL-backed store exactly once, finished, with its metrics, and both groups
    (class counts) ran side by side."""
    server, cluster = services["server"], services["cluster"]
    config = tmp_path / "study.yaml"
    config.write_text(GROUPS_STUDY.format(name="faults", trials=2, epochs=EPOCHS))
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **_driver_env(cluster, services["token"]),
    )
    env.pop("RAY_AUTH_MODE", None)
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "study.cli",
            "run",
            "--config",
            str(config),
            "--address",
            cluster.address,
            "--tracking-uri",
            server.uri,
            "--storage",
            str(tmp_path / "results"),
            "--max-failures",
            "4",
            "--checkpoint-every-s",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def running(at_least_epoch: int) -> int:
        return sum(
            r.info.status == "RUNNING" and r.data.metrics.get("epoch", 0) >= at_least_epoch
            for r in trial_runs(server.uri, "faults")
        )

    try:
        for fault in range(2):
            wait_for(lambda: running(1) >= 2, 300, f"two trials training before fault {fault + 1}")
            workers = cluster.worker_raylets()
            assert len(workers) == 1, workers
            _kill_node(workers[0])
            if fault == 0:
                server.stop()
                time.sleep(3)
                server.start()  # same port, same database
            cluster.add_worker()
        output, _ = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            kill_group(driver)
    assert driver.returncode == 0, output[-4000:]
    runs = trial_runs(server.uri, "faults")
    ids = [r.data.tags["trial_id"] for r in runs]
    assert len(runs) == 4 and len(set(ids)) == 4, ids
    assert all(
        r.info.status == "FINISHED" and r.data.tags["trial_status"] == "finished" for r in runs
    )
    assert all(
        r.data.metrics["epoch"] == EPOCHS and 0 <= r.data.metrics["val_accuracy"] <= 1 for r in runs
    )
    assert any(int(r.data.tags["attempts"]) > 1 for r in runs), (
        "a trial on a killed node should have been retried"
    )
    by_group = {}
    for run in runs:
        by_group.setdefault(run.data.params["data.num_classes"], []).append(run.info)
    assert sorted(by_group) == ["10", "5"] and all(len(v) == 2 for v in by_group.values())
    fingerprints = {
        c: {r.data.tags["data.fingerprint"] for r in runs if r.data.params["data.num_classes"] == c}
        for c in ("5", "10")
    }
    # both nodes
    assert (
        all(len(f) == 1 for f in fingerprints.values()) and fingerprints["5"] != fingerprints["10"]
    )
    five, ten = by_group["5"], by_group["10"]
    # the groups overlapped in time
    assert min(i.start_time for i in ten) < max(i.end_time for i in five)
    client = MlflowClient(server.uri)
    history = client.get_metric_history(runs[0].info.run_id, "epoch")
    assert sorted({m.step for m in history}) == list(range(1, EPOCHS + 1))
    # --checkpoint-every-s 0: every epoch
    assert len(list((tmp_path / "results").rglob("trial_state.pt"))) >= 4


@pytest.mark.slow
def test_auto_finds_the_cluster_that_ray_start_started_and_presents_its_token(services):
    """``--address auto``, as the entry script of ``ray submit`` passes it, from a shell where
    ``ray start`` ran: the driver finds this cluster (not another one on the machine) and joins it."""
    cluster = services["cluster"]
    script = (
        "import study, ray; from study.cluster import connect; connect('auto'); "
        "print(ray.get_runtime_context().gcs_address)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), **_driver_env(cluster, services["token"]))
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].endswith(f":{cluster.port}")


@pytest.mark.slow
def test_the_heads_tracking_server_starts_once_on_postgres(services, tmp_path):
    """study/clusters/start_tracking.sh as `ray up` runs it on the head, twice (a re-run of `ray up`):
    one MLflow server on the given address over the PostgreSQL in ~/study-tracking.env, its URL
    written for the entry script; the second run finds it answering instead of starting another."""
    home, port = tmp_path / "home", free_port()
    home.mkdir()
    (home / "study-tracking.env").write_text(
        f"MLFLOW_BACKEND_STORE_URI={services['postgres'].uri}\n"
        f"MLFLOW_ARTIFACTS_DESTINATION={tmp_path / 'artifacts'}\nMLFLOW_PORT={port}\nMLFLOW_WORKERS=1\n"
    )
    env = dict(os.environ, HOME=str(home), STUDY_PYTHON=sys.executable, STUDY_NODE_IP="127.0.0.1")
    script = str(ROOT / "study" / "clusters" / "start_tracking.sh")
    # the server stays in this process group
    first = subprocess.Popen(
        ["bash", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        said = first.communicate(timeout=400)[0]
        assert first.returncode == 0, said
        url = f"http://127.0.0.1:{port}"
        assert (home / "mlflow-server.url").read_text().strip() == url
        again = subprocess.run(
            ["bash", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0 and "already answers" in again.stdout, (
            again.stdout + again.stderr
        )
        servers = [
            p
            for p in os.listdir("/proc")
            if p.isdigit()
            and _cmdline(p).startswith(sys.executable)
            and "mlflow\0server" in _cmdline(p)
            and Path(f"/proc/{p}/environ").exists()
            and f"MLFLOW_PORT={port}".encode() in _environ(p)
        ]
        assert len({os.getpgid(int(p)) for p in servers}) == 1, servers
        # out of `ps`: it may hold a password
        assert services["postgres"].uri not in " ".join(_cmdline(p) for p in servers)
        MlflowClient(url).create_experiment("from-start-tracking")
        # same database
        assert MlflowClient(services["server"].uri).get_experiment_by_name("from-start-tracking")
    finally:
        try:
            os.killpg(first.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _environ(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


@pytest.mark.slow
def test_a_wrong_token_is_one_line(services, tmp_path):
    cluster = services["cluster"]
    done = run_cli(
        "run",
        "--preset",
        "smoke",
        "--address",
        cluster.address,
        "--tracking-uri",
        services["server"].uri,
        "--storage",
        str(tmp_path / "results"),
        cwd=tmp_path,
        env={"RAY_TMPDIR": cluster.temp, "RAY_AUTH_TOKEN": "not-the-token"},
        timeout=300,
    )
    assert_refused(done, "the cluster requires Ray's auth token", tmp_path)
