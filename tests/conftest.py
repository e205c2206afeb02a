"""Shared fixtures: a fresh MLflow sqlite store, the `study` CLI run in this process (``cli``) or
as a real subprocess (``study_cli``, for the runs that start Ray and the exit-2 contract), and
torch held to one CPU thread."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
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


@pytest.fixture(scope="session")
def loss_combos_study(tmp_path_factory):
    """A real loss-combos study at smoke size on fewer images (tests.trainables.recorded_runs.SMALL),
    every cell on both paired seeds: 1 epoch of CE, then 2 of the cell's losses, lr x0.1 after
    epoch 2. (store URI, its trials as ``analysis.load`` reads them), shared by the tests that read it."""
    from tests.trainables.recorded_runs import SMALL, run_small_preset

    base = {**SMALL, "train.pretrain_epochs": 1, "train.epochs": 2, "optim.lr_milestones": "2"}
    return run_small_preset("loss-combos", tmp_path_factory.mktemp("loss-combos"), base, seeds=2)


@pytest.fixture(scope="session")
def camri_study(tmp_path_factory):
    """A real camri study at smoke size on fewer images, 1 epoch: 3 searched trials and its
    cross-entropy baseline arm on both paired seeds. (store URI, trials), shared."""
    from tests.trainables.recorded_runs import SMALL, run_small_preset

    folder = tmp_path_factory.mktemp("camri")
    return run_small_preset("camri", folder, {**SMALL, "train.epochs": 1}, trials=3, seeds=2)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def run_study_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m study.cli ARGS`` the way a user runs ``study``; never raises on exit codes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    # mlflow.set_tracking_uri in an earlier in-process test exports it
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "study.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def study_cli(tmp_path: Path):
    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_study_cli(*args, cwd=tmp_path, timeout=timeout)

    return run


@dataclass(frozen=True)
class CliResult:
    """What ``study ARGS`` did: its exit code and what it wrote to stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """``study ARGS`` through ``study.cli.main`` in this process, from ``tmp_path`` as the working
    directory (as ``study_cli`` runs it, without the seconds a new interpreter costs). The exit
    code is ``main``'s return value or the code of the ``SystemExit`` argparse raises."""
    from study.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # recorded: teardown removes what mlflow exports
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # --address's default: tests set it to use it

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
