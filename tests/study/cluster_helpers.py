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
        [sys.executable, "-m", "study.cli", *args], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def trial_runs(store: str, experiment: str) -> list:
    client = MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return [r for r in client.search_runs([found.experiment_id]) if r.data.tags.get("role") != "study"]


def parent_runs(store: str, experiment: str) -> list:
    client = MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    return [r for r in client.search_runs([found.experiment_id]) if r.data.tags.get("role") == "study"]


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
