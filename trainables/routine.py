"""The training routine: ``train(cfg, report)``. It knows nothing of Ray or MLflow.

``report(metrics)`` is called once per epoch with plain floats; with ``checkpoint=True`` it is
called as ``report(metrics, state=...)`` where ``state`` restores the trial through ``resume``.
Like ``report``, the artifact writer is passed in (``write_artifacts``): this module builds the
trial's state (``trainables.state``), steps it and evaluates it (``trainables.evaluation``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch

from trainables.config import TrialConfig
from trainables.data import DatasetBundle
from trainables.evaluation import Evaluation, evaluate
from trainables.phases import Phase, batch_progress, epoch_plan, scale_for
from trainables.state import TrialState

Report = Callable[..., None]
ArtifactWriter = Callable[[TrialState, Evaluation], Any]
PHASE_INDEX = {"pretrain": 0.0, "main": 1.0, "additional": 2.0}  # the `phase_index` metric


class TrialDiverged(RuntimeError):
    """The loss became NaN or infinite; the trial cannot continue."""


def train_epoch(state: TrialState, phase: Phase, epoch_in_phase: int) -> dict[str, float]:
    """One epoch of ``phase`` over the training split; returns its mean loss terms, scale and lrs."""
    state.model.train()
    state.objective.train()
    data, bs = state.data, state.cfg.train.batch_size
    n_batches = max(1, math.ceil(len(data.train) / bs))
    sums: dict[str, torch.Tensor] = {}
    scale = 0.0
    batches = data.train.batches(
        bs,
        shuffle=True,
        generator=state.generator,
        augment=state.cfg.data.augment,
        flip=data.flip_ok,
    )
    for b, (x, y) in enumerate(batches):
        progress = batch_progress(phase, epoch_in_phase, b, n_batches)
        scale = scale_for(state.cfg, phase, progress, data.num_classes)
        terms = _primary_step(state, x, y, phase, scale)
        if phase.uses_objective and state.secondary_optimizer is not None:
            terms.update(_secondary_step(state, x, y, scale))
        for name, value in terms.items():
            sums[name] = sums[name] + value if name in sums else value
    _check_finite(sums, state.next_epoch)
    metrics = {
        f"train_loss_{k}" if k != "total" else "train_loss": float(v) / n_batches
        for k, v in sums.items()
    }
    metrics["scale"] = state.objective.scale(scale) if phase.uses_objective else float("nan")
    metrics.update(state.learning_rates())  # the lrs this epoch trained with
    return metrics


def _primary_step(
    state: TrialState, x: torch.Tensor, y: torch.Tensor, phase: Phase, scale: float
) -> dict[str, torch.Tensor]:
    embeddings = state.forward(x)
    if phase.uses_objective:
        terms = state.objective(embeddings, y, scale)
    else:
        terms = {"total": state.pretrain_head(embeddings, y)}
    if state.check_each_step:
        _check_finite(terms, state.next_epoch)
    steps = (
        [state.optimizer, *state.term_optimizers.values()]
        if phase.uses_objective
        else [state.optimizer]
    )
    for optimizer in steps:
        optimizer.zero_grad(set_to_none=True)
    terms["total"].backward()
    for optimizer in steps:
        optimizer.step()
    if phase.uses_objective:
        state.objective.after_step(embeddings.detach(), y)
    return {k: v.detach().double() for k, v in terms.items()}


def _secondary_step(
    state: TrialState, x: torch.Tensor, y: torch.Tensor, scale: float
) -> dict[str, torch.Tensor]:
    """Complement Objective Training's second update: fresh forward, its own optimizer."""
    loss = state.objective.secondary(state.forward(x), y, scale)
    if loss is None:
        return {}
    if state.check_each_step:
        _check_finite({"secondary": loss}, state.next_epoch)
    state.secondary_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.secondary_optimizer.step()
    return {"secondary": loss.detach().double()}


def _check_finite(terms: dict[str, torch.Tensor], epoch: int) -> None:
    for name, value in terms.items():
        if not torch.isfinite(value).all():
            raise TrialDiverged(
                f"loss term {name!r} became {float(value.detach())} in epoch {epoch}"
            )


def train(
    cfg: TrialConfig,
    report: Report,
    *,
    resume: dict[str, Any] | None = None,
    checkpoint: bool = False,
    data: DatasetBundle | None = None,
    write_artifacts: ArtifactWriter | None = None,
) -> dict[str, float]:
    """Train one trial; returns the last epoch's metrics plus the final evaluation.

    ``write_artifacts(state, final_evaluation)`` (e.g. ``partial(trainables.artifacts.write_artifacts,
    directory=...)``) is called once after the last epoch's evaluation, before that epoch's report.
    """
    state = TrialState(cfg, data)
    if resume is not None:
        state.load_state_dict(resume)
    metrics: dict[str, float] = {}
    for epoch, phase, k in epoch_plan(cfg):
        if epoch < state.next_epoch:
            continue
        started = time.perf_counter()
        metrics = {"epoch": epoch + 1, **train_epoch(state, phase, k)}
        state.step_lr_schedules()
        state.next_epoch = epoch + 1
        final = state.next_epoch == cfg.train.total_epochs
        every = cfg.train.validate_every
        if final or (every and state.next_epoch % every == 0):
            evaluation = evaluate(state, phase, final=final)
            metrics.update(evaluation.metrics)
        metrics["epoch_time_s"] = time.perf_counter() - started
        metrics["phase_index"] = PHASE_INDEX[phase.name]
        if final and write_artifacts is not None:
            # before the last report: a scheduler may stop the trial there
            write_artifacts(state, evaluation)
        if checkpoint:
            report(metrics, state=state.state_dict())
        else:
            report(metrics)
    return metrics


__all__ = ["ArtifactWriter", "TrialDiverged", "train", "train_epoch"]
