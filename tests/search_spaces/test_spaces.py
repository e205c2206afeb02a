"""Spaces only suggest: FixedTrial points and seeded random draws all validate through TrialConfig."""

from __future__ import annotations

import optuna
import pytest

from search_spaces import SPACES, compose
from study.presets import PRESETS, SIZES
from study.samplers import SAMPLERS, grid_size
from trainables.config import TrialConfig

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_fixed_trial_gives_a_valid_config():
    space = compose(("head_type", "constant_scale", "lr"))
    constants = space(
        optuna.trial.FixedTrial({"loss.output": "normface", "scale.start": 12.5, "optim.lr": 0.02})
    )
    cfg = TrialConfig.from_flat(
        {"loss.output": "normface", "scale.start": 12.5, "optim.lr": 0.02, **constants}
    )
    assert (cfg.loss.output, cfg.scale.start, cfg.scale.schedule, cfg.optim.lr) == (
        "normface",
        12.5,
        "constant",
        0.02,
    )


def test_ce_trials_do_not_search_a_scale():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = compose(("head_type", "constant_scale"), {"head_type": {"choices": ("ce",)}})
    trial = study.ask()
    space(trial)
    assert "scale.start" not in trial.params


def _draw(names, options, n, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    space = compose(names, options)
    for _ in range(n):
        trial = study.ask()
        constants = space(trial)
        yield trial.params, constants
        study.tell(trial, 0.0)


@pytest.mark.parametrize("name", SPACES.names())
def test_every_space_draws_valid_configs(name):
    for params, constants in _draw((name,), {}, 25):
        TrialConfig.from_flat({**params, **constants})


def test_seeded_draws_repeat():
    first = [p for p, _ in _draw(("scale_schedule", "nuisance"), {}, 5, seed=3)]
    again = [p for p, _ in _draw(("scale_schedule", "nuisance"), {}, 5, seed=3)]
    assert first == again


def test_scale_schedule_sets_the_additional_phase():
    params = {
        "scale.schedule": "linear",
        "scale.start": 20.0,
        "scale.end": 5.0,
        "search.additional_fraction": 1.0,
    }
    constants = compose(("scale_schedule",), {"scale_schedule": {"epochs": 50}})(
        optuna.trial.FixedTrial(params)
    )
    cfg = TrialConfig.from_flat({**params, **constants})
    assert cfg.train.additional_epochs == 50 and cfg.scale.end == 5.0


def test_a_fixed_switch_point_is_not_searched():
    """The scale-schedules preset fixes the thesis's switch at the start of the additional phase."""
    for fixed, searched in (({}, True), ({"scale.switch_at": 0.0}, False)):
        trial = optuna.create_study().ask()
        space = compose(("scale_schedule",), {"scale_schedule": {"schedules": ("step",)}}, fixed)
        constants = space(trial)
        assert ("scale.switch_at" in trial.params) == searched
        if not searched:
            cfg = TrialConfig.from_flat({**trial.params, **constants})
            assert cfg.scale.schedule == "step" and cfg.scale.switch_at == 0.0


def test_head_tail_assignment_becomes_term_subsets():
    params = {"search.pc_on": "head", "search.complement_on": "tail"}
    constants = compose(("head_tail",))(optuna.trial.FixedTrial(params))
    cfg = TrialConfig.from_flat({**params, **constants})
    assert cfg.loss.terms["pc"].classes == "head" and cfg.loss.terms["complement"].classes == "tail"


def _grid_presets(staged: bool) -> list[str]:
    built = {p: PRESETS.get(p).build("smoke", "") for p in PRESETS.names()}
    return [
        p
        for p, f in built.items()
        if f.get("sampler") == "grid" and bool(f.get("design")) == staged
    ]


@pytest.mark.parametrize("preset", _grid_presets(staged=False))
def test_grid_enumerates_each_cell_exactly_once(preset):
    fields = PRESETS.get(preset).build("smoke", "")
    _enumerate_grid(fields["grid"], fields["spaces"], fields.get("space_options"), fields["trials"])


@pytest.mark.parametrize("preset", _grid_presets(staged=True))
def test_each_stage_of_a_staged_design_enumerates_its_cells_exactly_once(preset, tmp_path):
    """The screen's grid and every class count's estimation window, each cell once."""
    from study.spec import StudySpec
    from study.stages import next_stage

    spec = StudySpec(
        name="staged",
        preset=preset,
        size="smoke",
        storage=str(tmp_path),
        **PRESETS.get(preset).build("smoke", ""),
    )
    screen = next_stage(spec, {})
    for index in range(len(screen.spec.groups)):
        _enumerate_grid(
            screen.spec.grid_of(index), spec.spaces, spec.space_options, screen.spec.trials
        )
    rows = [
        {"data.num_classes": g["data.num_classes"], "scale.start": s, "val_accuracy": 0.5}
        for g in spec.groups
        for s in screen.spec.grid["scale.start"]
    ]
    estimate = next_stage(spec, {"screen": rows})
    for index in range(len(estimate.spec.groups)):
        _enumerate_grid(
            estimate.spec.grid_of(index), spec.spaces, spec.space_options, estimate.spec.trials
        )


def _enumerate_grid(grid, spaces, space_options, trials):
    sampler = SAMPLERS.get("grid")(0, grid)
    study = optuna.create_study(sampler=sampler)
    space = compose(spaces, space_options)
    seen = []
    for _ in range(grid_size(grid)):
        trial = study.ask()
        space(trial)
        seen.append(tuple(trial.params[k] for k in grid))
        try:
            study.tell(trial, 0.0)
        except RuntimeError:  # the grid sampler stops the study after its last cell
            assert len(seen) == grid_size(grid)
    assert len(seen) == len(set(seen)) == grid_size(grid) == trials


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("preset", PRESETS.names())
def test_preset_spaces_yield_valid_configs(preset, size, tmp_path):
    from study.errors import UsageError

    try:
        fields = PRESETS.get(preset).build(size, str(tmp_path))
    except (
        UsageError
    ) as exc:  # a full-size protocol that needs local weights says where to put them
        assert "pretrained" in str(exc) and str(tmp_path) in str(exc)
        return
    for group in fields.get("groups", ({},)):
        for params, constants in _draw(fields["spaces"], fields.get("space_options"), 6):
            TrialConfig.from_flat({**fields["base"], **group, **params, **constants})


def test_fixed_output_loss_reaches_the_margin_and_scale_spaces():
    """A base that fixes ``loss.output`` decides what the margin and scale spaces search."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    constants = compose(("margin", "constant_scale"), constants={"loss.output": "camri"})(trial)
    assert set(trial.params) == {"loss.params.margin_rad", "scale.start"}
    assert constants["loss.output"] == "camri"
    trial = study.ask()
    compose(("margin", "constant_scale"), constants={"loss.output": "ce"})(trial)
    assert trial.params == {}  # CE has neither a margin nor a scale


# What each space exists to draw: a space of a preset that never draws its key is a silent no-op.
SPACE_DRAWS = {
    "head_type": "loss.output",
    "loss_combination": "search.feature",
    "margin": "loss.params.margin_",
    "constant_scale": "scale.start",
    "scale_schedule": "scale.schedule",
    "head_tail": "search.pc_on",
    "lr": "optim.lr",
    "nuisance": "optim.weight_decay",
    "seeds": "train.seed",
}


def test_every_space_says_what_it_draws():
    assert set(SPACE_DRAWS) == set(SPACES.names())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("preset", PRESETS.names())
def test_each_preset_space_draws_what_it_exists_for(preset, size):
    from study.errors import UsageError

    try:
        fields = PRESETS.get(preset).build(size, "")
    except UsageError as exc:  # e.g. a full-size preset whose local weights file is missing
        pytest.skip(str(exc))
    grid = {k: list(v) for k, v in fields.get("grid", {}).items()}
    for group in fields.get("groups", ({},)):
        sampler = (
            optuna.samplers.GridSampler(grid, seed=0)
            if grid
            else optuna.samplers.RandomSampler(seed=0)
        )
        study = optuna.create_study(sampler=sampler)
        space = compose(fields["spaces"], fields.get("space_options"), {**fields["base"], **group})
        drawn: set[str] = set()
        for _ in range(12):
            trial = study.ask()
            space(trial)
            drawn |= set(trial.params)
            try:
                study.tell(trial, 0.0)
            except RuntimeError:  # the grid is done
                break
        for name in fields["spaces"]:
            assert any(key.startswith(SPACE_DRAWS[name]) for key in drawn), (
                name,
                group,
                sorted(drawn),
            )


@pytest.mark.parametrize("size", SIZES)
def test_head_tail_preset_gives_pc_plain_sgd_and_complement_momentum_sgd(size):
    """Seed 001's optimizers at every size: each term that is on carries its optimizer in the config."""
    fields = PRESETS.get("head-tail").build(size, "")
    space = compose(fields["spaces"], fields.get("space_options"), fields["base"])
    params = {"search.pc_on": "head", "search.complement_on": "tail"}
    cfg = TrialConfig.from_flat(
        {**fields["base"], **params, **space(optuna.trial.FixedTrial(params))}
    )
    assert cfg.optim.name == "sgd_momentum"
    assert (cfg.loss.terms["pc"].optimizer, cfg.loss.terms["complement"].optimizer) == (
        "sgd",
        "sgd_momentum",
    )
    params = {"search.pc_on": "none", "search.complement_on": "none"}
    cfg = TrialConfig.from_flat(
        {**fields["base"], **params, **space(optuna.trial.FixedTrial(params))}
    )
    assert cfg.loss.terms == {}
