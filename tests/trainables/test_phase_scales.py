"""The scale each training batch of a phase trains at: a scheduled phase starts at scale.start on
its first batch and reaches scale.end on its last; the step schedule switches at its fraction."""

from __future__ import annotations

import pytest

from trainables import routine
from trainables.config import TrialConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BASE = {
    "data.name": "digits",
    "data.augment": False,
    "data.max_per_class": 30,
    "model.embedding_dim": 16,
    "loss.output": "normface",
    "train.batch_size": 32,
    "train.threads": 1,
    "train.epochs": 1,
    "train.additional_epochs": 2,
    "train.validate_every": 0,
    "train.silhouette_samples": 0,
    "train.gradcam_images": 0,
    "optim.name": "adam",
    "optim.lr": 0.003,
    "scale.start": 20.0,
    "scale.end": 5.0,
}


def batch_scales(monkeypatch, **flat) -> tuple[list[float], list[float], list[dict]]:
    """The scales the main phase's and the additional phase's batches trained at, and the reports."""
    trained: dict[str, list[float]] = {"main": [], "additional": []}
    primary = routine._primary_step

    def recording(state, x, y, phase, scale):
        trained[phase.name].append(scale)
        return primary(state, x, y, phase, scale)

    monkeypatch.setattr(routine, "_primary_step", recording)
    history: list[dict] = []
    routine.train(TrialConfig.from_flat({**BASE, **flat}), history.append)
    return trained["main"], trained["additional"], history


@pytest.mark.parametrize("schedule", ["linear", "quadratic", "cosine"])
def test_a_decaying_schedule_runs_from_start_on_the_first_batch_to_end_on_the_last(
    monkeypatch, schedule
):
    main, additional, history = batch_scales(monkeypatch, **{"scale.schedule": schedule})
    assert set(main) == {20.0}  # the main phase holds the start scale
    assert len(additional) > 4 and len(additional) % 2 == 0  # two epochs of several batches
    assert additional[0] == pytest.approx(20.0)
    assert additional[-1] == pytest.approx(5.0)
    assert all(b < a for a, b in zip(additional, additional[1:]))
    assert history[-1]["scale"] == pytest.approx(5.0)  # the last epoch reports the end value


@pytest.mark.parametrize("switch_at, at_start", [(0.5, 0.5), (0.0, 0.0)])
def test_step_switches_at_its_fraction_of_the_phase(monkeypatch, switch_at, at_start):
    """switch_at 0.5 of two epochs: the first epoch at start, the second at end; switch_at 0 (the
    thesis's step arm): end from the first batch of the additional phase."""
    _, additional, _ = batch_scales(
        monkeypatch, **{"scale.schedule": "step", "scale.switch_at": switch_at}
    )
    n = len(additional)
    k = round(at_start * n)
    assert additional == [20.0] * k + [5.0] * (n - k)
