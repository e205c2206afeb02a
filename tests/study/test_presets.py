"""Every preset at every size passes --dry-run: a plan is printed, nothing is written."""
from __future__ import annotations

import json

import pytest

from study.presets import PRESETS, SIZES


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("preset", PRESETS.names())
def test_dry_run(study_cli, tmp_path, preset, size):
    done = study_cli("run", "--preset", preset, "--size", size, "--dry-run", timeout=120)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["preset"] == preset and plan["size"] == size and plan["trials_per_group"] >= 1
    assert list(tmp_path.iterdir()) == []


def test_presets_lists_each_with_one_line(study_cli):
    done = study_cli("presets", timeout=60)
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == PRESETS.names()
