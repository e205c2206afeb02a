"""Shared fixtures: a fresh MLflow sqlite store, the `study` CLI run as a real subprocess, and
torch held to one CPU thread."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def one_torch_thread():
    """torch on one CPU thread for the test (tiny tensors: more threads only contend for the
    shared cores), restored afterwards. Use with ``pytestmark = pytest.mark.usefixtures(...)``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def run_study_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m study.cli ARGS`` the way a user runs ``study``; never raises on exit codes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.pop("MLFLOW_TRACKING_URI", None)  # mlflow.set_tracking_uri in an earlier in-process test exports it
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def study_cli(tmp_path: Path):
    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_study_cli(*args, cwd=tmp_path, timeout=timeout)

    return run
