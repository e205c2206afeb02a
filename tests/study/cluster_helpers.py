"""Helpers for tests that start real Ray processes: a short temp dir, store queries, cleanup by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[2]


def ray_temp_dir() -> str:
    """Short enough for Ray's unix sockets (107 bytes), unique per test."""
    return tempfile.mkdtemp(prefix="ray", dir="/tmp")


def start_study(args: list[str], cwd: Path, ray_tmp: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", RAY_TMPDIR=ray_tmp)
    return subprocess.Popen(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def trial_runs(store: str, experiment: str) -> list:
    client = MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return [
        r for r in client.search_runs([found.experiment_id]) if r.data.tags.get("role") != "study"
    ]


def parent_runs(store: str, experiment: str) -> list:
    client = MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    return [
        r for r in client.search_runs([found.experiment_id]) if r.data.tags.get("role") == "study"
    ]


def wait_for(predicate, timeout_s: float, what: str, every_s: float = 1.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - the store may not exist yet
            pass
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def kill_processes_under(directory: str) -> None:
    """SIGKILL every process whose command line mentions ``directory`` (Ray's own processes)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if directory in cmdline:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def study_file(path: Path, name: str, trials: int, epochs: int) -> Path:
    path.write_text(
        f"name: {name}\n"
        f"trials: {trials}\n"
        "base: {data.name: glyphs, data.num_classes: 10, data.image_size: 16, data.max_per_class: 80,\n"
        f"       loss.output: normface, optim.name: adam, optim.lr: 0.003, train.epochs: {epochs}}}\n"
        "spaces: [constant_scale]\n"
        "scheduler: none\n"
        "sampler: random\n"
    )
    return path


# --- real services on loopback for cluster tests: PostgreSQL, an MLflow server, `ray start` nodes ---

MLFLOW = str(Path(sys.executable).with_name("mlflow"))
RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = 120) -> None:
    import urllib.request

    def answers() -> bool:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200

    wait_for(answers, timeout_s, url, every_s=0.5)


def _postgres_tool(name: str) -> str | None:
    import glob
    import shutil

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class Postgres:
    """A throwaway PostgreSQL server on 127.0.0.1 (Debian's ``postgresql`` package; as root it runs
    as the ``postgres`` user, which initdb requires). ``start`` returns None with the reason when
    it cannot run here, so the test can skip saying why."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="pg", dir="/tmp")
        self.port = free_port()
        self.uri = f"postgresql://mlflow@127.0.0.1:{self.port}/mlflow"

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def start(self) -> str | None:
        import shutil

        initdb, pg_ctl, createdb = (_postgres_tool(n) for n in ("initdb", "pg_ctl", "createdb"))
        if not (initdb and pg_ctl and createdb):
            return "PostgreSQL is not installed (apt-get install postgresql)"
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                return "running as root without runuser to start PostgreSQL as the postgres user"
            try:
                import pwd

                owner = pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user to run PostgreSQL"
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        data = os.path.join(self.directory, "data")
        steps = [
            [initdb, "-D", data, "-U", "mlflow", "--auth=trust", "-E", "UTF8"],
            [
                pg_ctl,
                "-D",
                data,
                "-l",
                os.path.join(self.directory, "log"),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            ],
            [createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", "mlflow", "mlflow"],
        ]
        for step in steps:
            done = subprocess.run(self._as_owner(step), capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                return f"PostgreSQL did not start: {Path(step[0]).name}: {(done.stderr or done.stdout).strip()[-300:]}"
        return None

    def stop(self) -> None:
        pg_ctl = _postgres_tool("pg_ctl")
        if pg_ctl:
            subprocess.run(
                self._as_owner(
                    [pg_ctl, "-D", os.path.join(self.directory, "data"), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
        subprocess.run(["rm", "-rf", self.directory], check=False)


class MlflowServer:
    """``mlflow server`` on 127.0.0.1 with a database backend and an artifact directory."""

    def __init__(self, backend: str, artifacts: Path) -> None:
        self.backend, self.artifacts, self.port = backend, artifacts, free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = Path(artifacts).parent / f"mlflow-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> MlflowServer:
        self.process = subprocess.Popen(
            [
                MLFLOW,
                "server",
                "--backend-store-uri",
                self.backend,
                "--artifacts-destination",
                str(self.artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"{self.uri}/health")
        except AssertionError:
            raise AssertionError(
                f"mlflow server did not answer: {self.log.read_text()[-2000:]}"
            ) from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            kill_group(self.process)


class RayStartCluster:
    """A cluster of ``ray start`` processes on 127.0.0.1, as a user starts one by hand: a head and
    ``workers`` worker nodes, with a temp dir of its own (``$RAY_TMPDIR``, so ``--address auto``
    finds this cluster and no other) and Ray's token authentication on (``token_path``)."""

    def __init__(self, token_path: Path, head_cpus: int = 1) -> None:
        self.temp = ray_temp_dir()
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.head_cpus = head_cpus
        self.env = dict(os.environ, RAY_TMPDIR=self.temp, RAY_AUTH_TOKEN_PATH=str(token_path))
        self.env.pop("RAY_AUTH_MODE", None)
        self.env.pop("RAY_ADDRESS", None)

    def _ray(self, *args: str, env: dict) -> None:
        done = subprocess.run(
            [RAY, "start", *args, "--node-ip-address=127.0.0.1", "--disable-usage-stats"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"ray start {' '.join(args)} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}"
            )

    def start_head(self) -> None:
        # RAY_AUTH_MODE unset and a token present: Ray >= 2.59 turns token authentication on
        self._ray(
            "--head",
            f"--port={self.port}",
            f"--num-cpus={self.head_cpus}",
            "--include-dashboard=false",
            env=self.env,
        )

    def add_worker(self, cpus: int = 1) -> None:
        self._ray(
            f"--address={self.address}",
            f"--num-cpus={cpus}",
            env=dict(self.env, RAY_AUTH_MODE="token"),
        )

    def worker_raylets(self) -> list[int]:
        """PIDs of the worker nodes' raylets (the head's raylet is the one the GCS started first)."""
        raylets = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if (
                self.temp in cmdline
                and "/raylet" in cmdline.split("\0")[0]
                and "--head" not in cmdline
            ):
                raylets.append(int(pid))
        return raylets

    def stop(self) -> None:
        kill_processes_under(self.temp)
