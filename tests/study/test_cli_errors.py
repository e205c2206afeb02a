"""Bad input: one line naming the problem, exit code 2, nothing written."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "--preset", "no-such-preset"], "unknown preset 'no-such-preset'"),
        (["run", "--trials", "-2"], "-2 is not positive"),
        (["run", "--trials", "zero"], "'zero' is not a whole number"),
        (["run", "--trials", "0"], "0 is not positive"),
        (["run", "--tracking-uri", "http://127.0.0.1:9/"], "no MLflow server answers"),
        (["run", "--tracking-uri", "sqlite:////no/such/dir/mlflow.db"], "/no/such/dir does not exist"),
        (["run", "--tracking-uri", "ftp://example/store"], "unsupported scheme"),
        (["run", "--sampler", "annealing"], "--sampler 'annealing' is unknown"),
        (["run", "--size", "huge"], "invalid choice: 'huge'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(study_cli, tmp_path, args, fragment):
    done = study_cli(*args, "--storage", str(tmp_path / "results"), timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert fragment in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_dry_run_prints_the_plan_and_writes_nothing(study_cli, tmp_path):
    done = study_cli("run", "--preset", "smoke", "--dry-run", "--trials", "5", timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"trials_per_group": 5' in done.stdout
    assert list(tmp_path.iterdir()) == []
