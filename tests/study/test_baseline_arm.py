"""A study's baseline arm (``StudySpec.baseline``; camri's cross-entropy): a stage of its own after the
search, on each of the paired seeds once, on the searched trials' class subset, tagged arm=baseline."""

from __future__ import annotations

import json

import pytest

from study.errors import UsageError
from study.presets import PRESETS
from study.spec import StudySpec
from study.stages import BASELINE, baseline_spec, next_stage, planned_trials


def camri(size: str = "smoke", **changes) -> StudySpec:
    fields = {**PRESETS.get("camri").build(size, ""), **changes}
    return StudySpec(name="c", preset="camri", size=size, **fields)


def test_camri_runs_cross_entropy_on_the_paired_seeds_after_its_search():
    spec = camri()
    assert spec.baseline == {"loss.output": "ce"} and spec.baseline_seeds == (0, 1)
    # --seeds does not replicate the NSGA-II search
    assert spec.trials == 4 and planned_trials(spec) == 4 + 2
    first = next_stage(spec, {})
    assert first.name == "" and first.spec is spec and first.tags == {}
    second = next_stage(spec, {"": []})
    assert second.name == BASELINE and second.tags == {"arm": "baseline"}
    assert next_stage(spec, {"": [], BASELINE: []}) is None
    arm = second.spec
    assert (
        arm.sampler == "grid"
        and arm.grid == {"train.seed": (0, 1)}
        and arm.trials == 2
        and arm.scheduler == "none"
    )
    assert arm.base["loss.output"] == "ce" and arm.base["data.important_class"] == 3
    # CAMRI's own parameters are not CE's
    assert not [k for k in arm.base if k.startswith("loss.params.")]
    assert arm.metric == spec.metric and arm.baseline == {} and arm.paired_seeds == (0, 1)
    # both arms validate before Ray
    assert [cfg.loss.output for cfg in spec.trial_configs()] == ["camri", "ce"]


def test_the_baseline_keeps_the_class_subset_of_the_searched_trials():
    import optuna

    from search_spaces import compose

    arm = baseline_spec(camri(seeds=3))
    study = optuna.create_study(
        sampler=optuna.samplers.GridSampler({"train.seed": [0, 1, 2]}, seed=0),
        directions=["maximize", "maximize"],
    )
    space = compose(arm.spaces, arm.space_options, arm.base)
    drawn = []
    for _ in range(3):
        trial = study.ask()
        constants = space(trial)
        drawn.append((trial.params["train.seed"], constants.get("data.subset_seed", 0)))
        try:
            study.tell(trial, [0.0, 0.0])
        except RuntimeError:  # the grid sampler stops the study after its last cell
            break
    assert sorted(drawn) == [(0, 0), (1, 0), (2, 0)]


@pytest.mark.parametrize("size,seeds", [("cpu", None), ("smoke", "5")])
def test_the_dry_run_plans_the_baseline_arm(cli, size, seeds):
    done = cli(
        "run",
        "--preset",
        "camri",
        "--size",
        size,
        "--dry-run",
        *(["--seeds", seeds] if seeds else []),
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    expected = int(seeds) if seeds else {"smoke": 2, "cpu": 3}[size]
    assert plan["baseline"] == {
        "values": {"loss.output": "ce"},
        "seeds": list(range(expected)),
        "trials_per_group": expected,
    }
    assert (
        plan["fixed_config"]["data.important_class"] == 3
        and plan["trials_per_group"] == {"smoke": 4, "cpu": 24}[size]
    )
    assert "CE baseline" in plan["description"]


def test_a_baseline_with_a_staged_design_is_refused():
    fields = PRESETS.get("scale-vs-classes").build("smoke", "")
    with pytest.raises(UsageError, match="a baseline arm runs after a one-stage study"):
        StudySpec(
            name="s", preset="x", size="smoke", **{**fields, "baseline": {"loss.output": "ce"}}
        )


def test_a_bad_baseline_value_fails_before_anything_runs():
    with pytest.raises(UsageError, match="loss.output='nope' is unknown"):
        camri(baseline={"loss.output": "nope"}).trial_configs()
