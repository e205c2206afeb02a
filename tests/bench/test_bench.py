"""`study bench`: the tiny size runs end to end and writes every field; targets are parsed, never timed."""
from __future__ import annotations

import json

import pytest

from study.bench import TARGETS, meets

FIELDS = ("routine_speedup", "orchestration_overhead", "peak_memory_mb", "ray_startup_s", "import_s",
          "threads_per_trial", "trials_per_hour", "targets", "meets_targets")


@pytest.mark.parametrize(
    "value, target, expected",
    [(2.0, ">= 2.0", True), (1.99, ">= 2.0", False), (1.15, "<= 1.15", True), (1.2, "<= 1.15", False),
     (1499.0, "< 1500", True), (1500.0, "< 1500", False), (3.0, "> 2", True)],
)
def test_meets_compares_against_the_target(value, target, expected):
    assert meets(value, target) is expected


def test_a_malformed_target_names_itself():
    with pytest.raises(ValueError, match="'about 2'"):
        meets(1.0, "about 2")


def test_bench_rejects_an_unknown_size_on_one_line(study_cli):
    done = study_cli("bench", "--size", "huge", timeout=120)
    assert done.returncode == 2
    assert "invalid choice: 'huge'" in done.stderr.strip()


@pytest.mark.slow
def test_tiny_bench_writes_every_field(study_cli, tmp_path):
    out = tmp_path / "bench.json"
    done = study_cli("bench", "--size", "tiny", "--json", str(out), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    for field in FIELDS:
        assert field in result, field
    for ratio in ("routine_speedup", "orchestration_overhead", "peak_memory_mb"):
        assert result[ratio] > 0
    assert result["targets"] == TARGETS
    assert set(result["meets_targets"]) == set(TARGETS)
    assert all(isinstance(v, bool) for v in result["meets_targets"].values())
    assert result["orchestration"]["identical_trials"] is True
    assert result["routine"]["speedup_bound"] > 0 and result["routine"]["routine_share_of_ceiling"] > 0
    assert "skipped" in result["gpu"] and "compute ceiling" in done.stdout
    assert result["threads_per_trial"] >= 1
    assert result["trials_per_hour"]["smoke"]["smoke"] > 0
    assert "ESTIMATE" in done.stdout and "routine_speedup" in done.stdout


def test_the_device_epoch_runs_resnet20_on_cifar10_sized_tensors():
    from study.bench_device import cifar10_sized, measure_device_epochs

    bundle = cifar10_sized(train_images=64, val_images=16, test_images=16)
    assert tuple(bundle.train.x.shape) == (64, 3, 32, 32) and bundle.num_classes == 10
    result = measure_device_epochs("cpu", epochs=3, train_images=64, val_images=16, test_images=16)
    assert result["model"] == "resnet20" and result["train_images"] == 64 and len(result["epoch_times_s"]) == 3
    assert result["epoch_s"] == result["epoch_times_s"][1]  # the one epoch between the first and the last
    assert result["images_per_s"] == pytest.approx(64 / result["epoch_s"])
