"""The softmax scale s: a constant, or a schedule with its start, end, switch point and phases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_spaces.registry import SPACES

SCALE_RANGE = (1.0, 64.0)  # AdaCos gives 3.1 (C=10) to 9.8 (C=1000); CosFace/ArcFace use 64
END_SCALE_RANGE = (1.0, 20.0)  # the thesis decays to about 5


def _has_scale(trial: Any) -> bool:
    from trainables.losses.registry import scaled_losses  # torch: only once a space runs

    output = trial.params.get("loss.output")
    return output is None or output in scaled_losses()


@SPACES.register("constant_scale")
def constant_scale(
    trial: Any, low: float = SCALE_RANGE[0], high: float = SCALE_RANGE[1]
) -> dict[str, Any]:
    """A constant scale, log-uniform; only for losses that have one (CE trials stay scale-free)."""
    if not _has_scale(trial):
        return {}
    trial.suggest_float("scale.start", low, high, log=True)
    return {"scale.schedule": "constant"}


@SPACES.register("scale_schedule")
def scale_schedule(
    trial: Any,
    schedules: Sequence[str] = ("constant", "linear", "step", "quadratic"),
    additional_fraction: Sequence[float] = (0.0, 1.0),
    epochs: int = 0,
) -> dict[str, Any]:
    """Schedule type, start and end scales, switch point, and the additional-training length.

    ``additional_fraction`` choices set ``train.additional_epochs = fraction * epochs`` (the thesis
    trains as many epochs again in its additional phase: fraction 1). The step schedule's switch
    point is drawn from [0.1, 0.9] of its phase unless the study fixes ``scale.switch_at`` (the
    thesis's step arm switches at the start of its additional phase: 0).
    """
    schedule = trial.suggest_categorical("scale.schedule", list(schedules))
    trial.suggest_float("scale.start", *SCALE_RANGE, log=True)
    if schedule == "constant":
        return {}
    trial.suggest_float("scale.end", *END_SCALE_RANGE, log=True)
    if schedule == "step" and "scale.switch_at" not in trial.params:
        trial.suggest_float("scale.switch_at", 0.1, 0.9)
    if epochs and len(additional_fraction) > 1:
        fraction = trial.suggest_categorical(
            "search.additional_fraction", list(additional_fraction)
        )
        return {"train.additional_epochs": int(round(fraction * epochs))}
    return {}
