"""The two-stage scale design: what each stage runs, where the windows land, and that a resume
estimates on the windows it placed first (no Ray: the planning is plain functions)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from search_spaces.scale_design import ScaleDesign, screen_centre
from study.errors import UsageError
from study.presets import PRESETS
from study.presets.scale_vs_classes import class_counts, design, epochs_for
from study.spec import StudySpec
from study.stages import load_windows, next_stage, planned_trials


def preset_spec(
    size: str, storage: str, preset: str = "scale-vs-classes", **overrides
) -> StudySpec:
    return StudySpec(
        name=f"{preset}-{size}",
        preset=preset,
        size=size,
        storage=storage,
        **PRESETS.get(preset).build(size, ""),
        **overrides,
    )


def peaked(scale: float, centre: float) -> float:
    return 0.9 - 0.02 * (math.log(scale) - math.log(centre)) ** 2


@pytest.mark.parametrize("size", ["smoke", "cpu", "full"])
def test_class_counts_are_evenly_spaced_in_log_c_minus_1(size):
    counts = class_counts(size)
    gaps = [math.log(b - 1) - math.log(a - 1) for a, b in zip(counts, counts[1:])]
    assert len(counts) >= 3 and max(gaps) - min(gaps) < 0.05


@pytest.mark.parametrize("size", ["smoke", "cpu"])
def test_every_class_count_trains_about_the_same_number_of_steps(size):
    from study.presets.scale_vs_classes import BATCH, PER_CLASS, STEPS

    steps = [
        epochs_for(size, c) * math.ceil(c * PER_CLASS[size] / BATCH) for c in class_counts(size)
    ]
    assert all(abs(s / STEPS[size] - 1) < 0.2 for s in steps), steps


@pytest.mark.parametrize("size", ["smoke", "cpu", "full"])
def test_every_class_count_validates_on_about_the_same_number_of_images(size):
    """A fixed validation budget per trial, like the fixed step budget: the images per class
    follow from C, so the validation set's binomial noise does not grow as C falls."""
    from study.presets.scale_vs_classes import VAL_IMAGES

    groups = PRESETS.get("scale-vs-classes").build(size, "")["groups"]
    images = [g["data.val_per_class"] * g["data.num_classes"] for g in groups]
    assert [g["data.num_classes"] for g in groups] == list(class_counts(size))
    assert all(0 <= n / VAL_IMAGES[size] - 1 < 0.15 for n in images), images
    per_class = [g["data.val_per_class"] for g in groups]
    assert per_class == sorted(per_class, reverse=True) and per_class[0] > per_class[-1]


@pytest.mark.parametrize("size", ["smoke", "cpu", "full"])
def test_the_test_set_is_capped_per_trial_and_per_class(size):
    """The curve never reads the test set: at most TEST_IMAGES per trial (a little over, by
    rounding up per class) and never more than the glyphs' 50 per class."""
    from study.presets.scale_vs_classes import TEST_IMAGES
    from trainables.data.glyphs import GLYPH_TEST_PER_CLASS

    groups = PRESETS.get("scale-vs-classes").build(size, "")["groups"]
    for g in groups:
        per_class, c = g["data.test_per_class"], g["data.num_classes"]
        assert 1 <= per_class <= GLYPH_TEST_PER_CLASS
        assert per_class == GLYPH_TEST_PER_CLASS or per_class * c < TEST_IMAGES[size] + c


def test_screen_stage_runs_the_screen_grid_on_one_seed_at_a_third_of_the_epochs(tmp_path):
    spec = preset_spec("cpu", str(tmp_path))
    stage = next_stage(spec, {})
    plan = design("cpu")
    assert stage.name == "screen" and dict(stage.tags) == {"stage": "screen"}
    assert stage.spec.grid == {"scale.start": plan.screen_scales, "train.seed": (plan.screen_seed,)}
    assert stage.spec.trials == len(plan.screen_scales) and stage.spec.scheduler == "none"
    for full, short in zip(spec.groups, stage.spec.groups):
        assert short["train.epochs"] == math.ceil(full["train.epochs"] / 3)
        assert all(
            int(m) < short["train.epochs"]
            for m in filter(None, short["optim.lr_milestones"].split(","))
        )
    assert stage.storage_path.endswith("/scale-vs-classes-cpu/screen")


def test_estimate_stage_centres_each_window_on_its_screen_optimum_with_paired_seeds(tmp_path):
    spec = preset_spec("cpu", str(tmp_path))
    plan = design("cpu")
    centres = {c: 2.0 + i for i, c in enumerate(plan.class_counts)}
    screen = [
        {"data.num_classes": c, "scale.start": s, "val_accuracy": peaked(s, centres[c])}
        for c in plan.class_counts
        for s in plan.screen_scales
    ]
    stage = next_stage(spec, {"screen": screen})
    assert stage.name == "estimate" and stage.spec.trials == plan.window_points * len(plan.seeds)
    for group, grid in zip(spec.groups, stage.spec.group_grids):
        c = group["data.num_classes"]
        assert grid["train.seed"] == plan.seeds
        scales = grid["scale.start"]
        assert len(scales) == plan.window_points
        assert math.log(scales[-1] / scales[0]) == pytest.approx(
            2 * plan.window_half_width, abs=0.01
        )
        middle = scales[len(scales) // 2]
        # the parabola through 3 screen points finds the peak
        assert abs(math.log(middle / centres[c])) < 0.35
    assert next_stage(spec, {"screen": screen, "estimate": []}) is None


def test_a_resumed_study_estimates_on_the_windows_it_placed_first(tmp_path):
    spec = preset_spec("smoke", str(tmp_path))
    plan = design("smoke")
    screen = [
        {"data.num_classes": c, "scale.start": s, "val_accuracy": peaked(s, 4.0)}
        for c in plan.class_counts
        for s in plan.screen_scales
    ]
    first = next_stage(spec, {"screen": screen}).spec.group_grids
    other = [dict(r, val_accuracy=peaked(r["scale.start"], 30.0)) for r in screen]
    assert next_stage(spec, {"screen": other}).spec.group_grids == first
    assert set(load_windows(spec)) == set(plan.class_counts)


def test_screen_centre_stays_at_an_edge_optimum_and_ignores_failed_trials():
    scales = [0.5, 1, 2, 4, 8, 16, 32, 64]
    assert screen_centre(scales, [0.5 + 0.01 * i for i in range(8)]) == 64
    values = [peaked(s, 8.0) for s in scales]
    values[4] = float("nan")  # the trial at the peak failed
    assert 4 <= screen_centre(scales, values) <= 16
    assert screen_centre(scales, [1.0 - v for v in values], mode="min") == pytest.approx(
        screen_centre(scales, values)
    )


def test_plain_studies_are_one_stage_and_count_their_trials_as_before(tmp_path):
    spec = StudySpec(
        name="plain",
        preset="custom",
        size="custom",
        trials=4,
        base={"data.name": "digits"},
        spaces=("lr",),
        groups=({"data.num_classes": 5}, {"data.num_classes": 10}),
        storage=str(tmp_path),
    )
    stage = next_stage(spec, {})
    assert stage.name == "" and stage.spec is spec and not stage.tags
    assert next_stage(spec, {"": []}) is None and planned_trials(spec) == 8


def test_a_bad_design_is_one_line_naming_its_fields(tmp_path):
    spec = preset_spec("smoke", str(tmp_path))
    with pytest.raises(UsageError, match="window_points"):
        dataclasses.replace(spec, design={**spec.design, "window_points": 2})
    with pytest.raises(UsageError, match="its fields are"):
        dataclasses.replace(spec, design={**spec.design, "windows": 3})


def test_design_windows_are_log_symmetric():
    plan = ScaleDesign(
        class_counts=(5, 9),
        screen_scales=(1, 4, 16),
        screen_fraction=0.5,
        window_points=5,
        window_half_width=1.0,
        seeds=(0, 1),
    )
    window = plan.window(4.0)
    assert window[2] == 4.0 and window[0] * window[-1] == pytest.approx(16.0, rel=1e-3)


def _screened(plan, centre: float = 4.0) -> list[dict]:
    return [
        {"data.num_classes": c, "scale.start": s, "val_accuracy": peaked(s, centre)}
        for c in plan.class_counts
        for s in plan.screen_scales
    ]


def test_more_seeds_run_as_a_batch_of_their_own_on_the_same_windows(tmp_path):
    """`study resume NAME --seeds N` on a finished study: the seeds no batch has run as one more
    estimate batch (same windows, same tag), recorded so a later resume runs the same batches."""
    from study.commands import with_more_seeds
    from study.stages import load_batches

    spec = preset_spec("smoke", str(tmp_path))
    plan = design("smoke")
    screen = _screened(plan)
    first = next_stage(spec, {"screen": screen})
    assert first.name == "estimate" and first.tags == {"stage": "estimate"}
    done = {"screen": screen, "estimate": []}
    assert next_stage(spec, done) is None

    wider = with_more_seeds(spec, 5)
    assert wider.design["seeds"] == [0, 1, 2, 3, 4] and wider.trials == plan.window_points * 5
    added = next_stage(wider, done)
    assert added.name == "estimate.from2" and added.tags == {"stage": "estimate"}
    assert added.spec.trials == plan.window_points * 3
    for grid, before in zip(added.spec.group_grids, first.spec.group_grids):
        assert grid["train.seed"] == (2, 3, 4) and grid["scale.start"] == before["scale.start"]
    # an interrupted batch resumes as planned, even if the seeds asked for grow again meanwhile
    assert next_stage(with_more_seeds(wider, 7), done).name == "estimate.from2"
    done["estimate.from2"] = []
    assert next_stage(wider, done) is None
    assert load_batches(spec) == {"estimate": (0, 1), "estimate.from2": (2, 3, 4)}
    again = next_stage(with_more_seeds(wider, 6), done)
    assert again.name == "estimate.from5" and again.spec.group_grids[0]["train.seed"] == (5,)


def test_more_seeds_for_a_study_that_predates_the_batch_record(tmp_path):
    """An estimate stage that ran before batches were recorded counts as the batch of the seeds
    the saved study has: a resume with more seeds adds only the others."""
    from study.commands import with_more_seeds
    from study.spec import study_dir

    spec = preset_spec("smoke", str(tmp_path))
    plan = design("smoke")
    screen = _screened(plan)
    next_stage(spec, {"screen": screen})
    (tmp_path / spec.name / "estimate_batches.json").unlink()
    (tmp_path / spec.name / "estimate").mkdir()
    assert study_dir(spec) == str(tmp_path / spec.name)
    stage = next_stage(with_more_seeds(spec, 3), {"screen": screen, "estimate": []})
    assert stage.name == "estimate.from2" and stage.spec.group_grids[0]["train.seed"] == (2,)


@pytest.mark.parametrize(
    "seeds, problem", [(1, "already runs seeds 0..1; --seeds only adds seeds: give 2 or more")]
)
def test_more_seeds_never_drop_seeds(tmp_path, seeds, problem):
    from study.commands import with_more_seeds

    with pytest.raises(UsageError, match=problem):
        with_more_seeds(preset_spec("smoke", str(tmp_path)), seeds)


def test_more_seeds_need_a_staged_design(tmp_path):
    from study.commands import with_more_seeds

    spec = preset_spec("smoke", str(tmp_path), preset="loss-combos")
    with pytest.raises(UsageError, match="has no staged design"):
        with_more_seeds(spec, 4)


def test_run_seeds_sets_the_estimate_stages_paired_seeds(tmp_path):
    spec = preset_spec("cpu", str(tmp_path), seeds=6)
    plan = design("cpu")
    assert spec.design["seeds"] == list(range(6))
    assert spec.space_options["seeds"]["seeds"] == list(range(6))
    assert planned_trials(spec) == (plan.screen_trials + plan.window_points * 6) * len(spec.groups)
    stage = next_stage(spec, {"screen": _screened(plan)})
    assert stage.spec.group_grids[0]["train.seed"] == tuple(range(6))
