"""Scale schedules: endpoints, monotonicity, shape, and AdaCos's fixed values."""

from __future__ import annotations

import math

import pytest

from trainables.config import SCALE_SCHEDULES, ScaleConfig
from trainables.schedules import SCHEDULES, adacos_fixed_scale, scale_at

GRID = [i / 20 for i in range(21)]
DECAYING = ("linear", "step", "quadratic", "cosine")


def test_registry_matches_the_config_choices():
    assert set(SCHEDULES.names()) == set(SCALE_SCHEDULES)


@pytest.mark.parametrize("num_classes, expected", [(10, 3.11), (100, 6.50), (1000, 9.77)])
def test_adacos_fixed_values(num_classes, expected):
    assert round(adacos_fixed_scale(num_classes), 2) == expected


def test_adacos_needs_three_classes():
    with pytest.raises(ValueError, match="C >= 3"):
        adacos_fixed_scale(2)


@pytest.mark.parametrize("schedule", ["adacos_fixed", "adacos_dynamic"])
def test_adacos_schedules_ignore_start_and_end(schedule):
    cfg = ScaleConfig(schedule=schedule, start=30.0, end=2.0)
    assert all(scale_at(p, cfg, 100) == pytest.approx(math.sqrt(2) * math.log(99)) for p in GRID)


def test_constant():
    cfg = ScaleConfig(schedule="constant", start=12.0, end=3.0)
    assert [scale_at(p, cfg, 10) for p in GRID] == [12.0] * len(GRID)


@pytest.mark.parametrize("schedule", DECAYING)
@pytest.mark.parametrize("start, end", [(20.0, 5.0), (5.0, 20.0)])
def test_endpoints_and_monotonicity(schedule, start, end):
    cfg = ScaleConfig(schedule=schedule, start=start, end=end, switch_at=0.5)
    values = [scale_at(p, cfg, 10) for p in GRID]
    assert values[0] == pytest.approx(start)
    assert values[-1] == pytest.approx(end)
    steps = [b - a for a, b in zip(values, values[1:])]
    if start > end:
        assert all(d <= 1e-12 for d in steps)
    else:
        assert all(d >= -1e-12 for d in steps)


def test_linear_midpoint():
    assert scale_at(0.5, ScaleConfig(schedule="linear", start=20.0, end=5.0), 10) == pytest.approx(
        12.5
    )


def test_step_switches_at_switch_at():
    cfg = ScaleConfig(schedule="step", start=20.0, end=5.0, switch_at=0.7)
    assert scale_at(0.69, cfg, 10) == 20.0
    assert scale_at(0.70, cfg, 10) == 5.0


def test_quadratic_is_convex_fast_drop_first():
    cfg = ScaleConfig(schedule="quadratic", start=20.0, end=4.0)
    first_half = scale_at(0.0, cfg, 10) - scale_at(0.5, cfg, 10)
    second_half = scale_at(0.5, cfg, 10) - scale_at(1.0, cfg, 10)
    assert first_half == pytest.approx(12.0) and second_half == pytest.approx(4.0)
    assert scale_at(0.5, cfg, 10) < scale_at(
        0.5, ScaleConfig(schedule="linear", start=20.0, end=4.0), 10
    )


def test_cosine_is_slow_at_both_ends():
    cfg = ScaleConfig(schedule="cosine", start=20.0, end=4.0)
    assert scale_at(0.5, cfg, 10) == pytest.approx(12.0)
    assert scale_at(0.0, cfg, 10) - scale_at(0.1, cfg, 10) < scale_at(0.45, cfg, 10) - scale_at(
        0.55, cfg, 10
    )


def test_progress_is_clamped():
    cfg = ScaleConfig(schedule="linear", start=20.0, end=5.0)
    assert scale_at(-1.0, cfg, 10) == 20.0
    assert scale_at(2.0, cfg, 10) == 5.0
