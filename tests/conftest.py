"""Shared fixtures: a fresh MLflow sqlite store and the `study` CLI run as a real subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def run_study_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m study.cli ARGS`` the way a user runs ``study``; never raises on exit codes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def study_cli(tmp_path: Path):
    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_study_cli(*args, cwd=tmp_path, timeout=timeout)

    return run
