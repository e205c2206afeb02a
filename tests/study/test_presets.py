"""Every preset at every size passes --dry-run: a plan is printed, nothing is written."""

from __future__ import annotations

import json

import pytest

from study.presets import PRESETS, SIZES

# fine-tunes pretrained weights read from --data-root
NEEDS_LOCAL_FILES = {("scale-schedules", "full")}


# read a dataset from --data-root (MNIST, CIFAR, CUB): a dry run loads it, so without it the plan
# is refused on one line naming the files expected
NEEDS_DATA_ON_DISK = {("basics", "full"), ("camri", "full"), ("head-tail", "full")}
NEEDS_DATA_ON_DISK |= {("loss-combos", "full")}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("preset", PRESETS.names())
def test_dry_run(cli, tmp_path, preset, size):
    if (preset, size) in NEEDS_LOCAL_FILES:
        pytest.skip("tested with and without its weights file below")
    done = cli("run", "--preset", preset, "--size", size, "--dry-run")
    if (preset, size) in NEEDS_DATA_ON_DISK:
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "data.root is empty" in done.stderr and "expected <root>/" in done.stderr
        assert list(tmp_path.iterdir()) == []
        return
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["preset"] == preset and plan["size"] == size and plan["trials_per_group"] >= 1
    assert list(tmp_path.iterdir()) == []


GRID_PRESETS = ("loss-combos", "head-tail", "basics")


@pytest.mark.parametrize("preset", GRID_PRESETS)
def test_grid_presets_run_every_cell_on_the_same_paired_seeds(cli, preset):
    plans = {}
    for size, seeds in (("smoke", None), ("cpu", None), ("cpu", "4"), ("cpu", "1")):
        done = cli(
            "run",
            "--preset",
            preset,
            "--size",
            size,
            "--dry-run",
            *(["--seeds", seeds] if seeds else []),
        )
        assert done.returncode == 0, done.stderr
        plans[size, seeds] = json.loads(done.stdout)
    assert plans["smoke", None]["paired_seeds"] == [0, 1] and plans["cpu", None][
        "paired_seeds"
    ] == [0, 1, 2]
    assert (
        plans["cpu", "4"]["paired_seeds"] == [0, 1, 2, 3]
        and plans["cpu", "1"]["paired_seeds"] == []
    )
    one = plans["cpu", "1"]
    cells = 1
    for values in one["grid"].values():
        cells *= len(values)
    assert "train.seed" not in one["grid"] and one["trials_per_group"] == cells  # one run per cell
    for (size, seeds), plan in plans.items():
        n = len(plan["paired_seeds"]) or 1
        # every cell on every seed, once
        assert plan["trials_per_group"] == cells * n, (size, seeds)
        assert ("seeds" in plan["search_spaces"]) == (n > 1)
        assert plan["grid"].get("train.seed", []) == plan["paired_seeds"]
        assert "Departs from" in plan["description"]


def test_seeds_need_a_grid_and_a_positive_count(cli, tmp_path):
    done = cli("run", "--preset", "scale-schedules", "--size", "smoke", "--seeds", "3", "--dry-run")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "seeds=3" in done.stderr and "grid sampler" in done.stderr
    done = cli("run", "--preset", "loss-combos", "--seeds", "0", "--dry-run")
    assert done.returncode == 2 and "--seeds" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_seeds_set_a_staged_designs_estimate_stage(cli, tmp_path):
    """--seeds N on the main job: its estimate stage runs every window scale on seeds 0..N-1 (the
    screen keeps its one seed)."""
    done = cli(
        "run", "--preset", "scale-vs-classes", "--size", "smoke", "--seeds", "3", "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)["design"]
    assert plan["estimate"]["paired_seeds"] == [0, 1, 2]
    assert plan["estimate"]["trials_per_group"] == 3 * 3 and plan["screen"]["seed"] == 0
    assert list(tmp_path.iterdir()) == []


def test_a_study_file_replicates_its_grid_with_the_seeds_field(cli, tmp_path):
    (tmp_path / "study.yaml").write_text(
        "name: combos\ntrials: 2\nseeds: 3\nsampler: grid\nscheduler: none\n"
        "base: {data.name: digits, data.augment: false, model.name: small_cnn, train.epochs: 1}\n"
        "spaces: [head_type]\nspace_options: {head_type: {choices: [ce, mse]}}\ngrid: {loss.output: [ce, mse]}\n"
    )
    done = cli("run", "--config", "study.yaml", "--dry-run")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["paired_seeds"] == [0, 1, 2] and plan["trials_per_group"] == 6
    done = cli("run", "--config", "study.yaml", "--seeds", "2", "--dry-run")
    assert json.loads(done.stdout)["trials_per_group"] == 4


def test_a_saved_replicated_spec_loads_back_unchanged(tmp_path):
    import dataclasses

    from study.spec import StudySpec, load_spec, save_spec

    spec = StudySpec(
        name="x",
        preset="loss-combos",
        size="smoke",
        storage=str(tmp_path),
        **PRESETS.get("loss-combos").build("smoke", ""),
    )
    save_spec(spec)
    again = load_spec(str(tmp_path), "x")
    assert again == spec and again.trials == 12 and again.paired_seeds == (0, 1)
    assert dataclasses.replace(spec, trials=5).trials == 5  # --trials still overrides
    assert dataclasses.replace(spec, seeds=3).trials == 18


def test_scale_schedules_at_full_size_needs_its_pretrained_weights(cli, tmp_path):
    done = cli(
        "run",
        "--preset",
        "scale-schedules",
        "--size",
        "full",
        "--data-root",
        str(tmp_path),
        "--dry-run",
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    where = tmp_path / "pretrained" / "googlenet-imagenet.pth"
    assert str(where) in done.stderr and "model.pretrained_path" in done.stderr
    import torch
    from torchvision.models import googlenet

    where.parent.mkdir()
    torch.save(googlenet(weights=None, aux_logits=False, init_weights=False).state_dict(), where)
    args = ["run", "--preset", "scale-schedules", "--size", "full", "--data-root", str(tmp_path)]
    done = cli(*args, "--dry-run")
    # the weights are found; the dry run loads the data next, and CUB is not under --data-root
    assert done.returncode == 2 and "model.pretrained_path" not in done.stderr, done.stderr
    assert "cub200" in done.stderr.lower() or "CUB" in done.stderr
    from study.cli import build_parser
    from study.commands import plan as plan_of
    from study.commands import spec_from_args

    plan = plan_of(spec_from_args(build_parser().parse_args(args)))
    base = plan["fixed_config"]
    assert base["model.pretrained_path"] == str(where) and base["data.image_size"] == 224
    # every arm: 50 + 50 epochs
    assert base["train.epochs"] == base["train.additional_epochs"] == 50
    # selection never on the test classes
    assert plan["metric"] == "val_recall_at_1" and base["data.val_classes"] == 20


def test_scale_schedules_at_smoke_size_is_retrieval_on_unseen_glyph_classes(cli):
    done = cli("run", "--preset", "scale-schedules", "--size", "smoke", "--dry-run")
    plan = json.loads(done.stdout)
    assert (
        plan["fixed_config"]["data.name"] == "glyph_retrieval"
        and plan["metric"] == "val_recall_at_1"
    )
    # validation classes, apart from the training and test ones
    assert plan["fixed_config"]["data.val_classes"] == 4
    assert plan["fixed_config"]["train.additional_epochs"] == plan["fixed_config"]["train.epochs"]
    # the thesis's step arm: the small scale from the first batch of the additional phase
    assert plan["fixed_config"]["scale.switch_at"] == 0.0


def test_presets_lists_each_with_one_line(cli):
    done = cli("presets")
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == PRESETS.names()
