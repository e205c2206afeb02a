"""The training routine: ``train(cfg, report)``. It knows nothing of Ray or MLflow.

``report(metrics)`` is called once per epoch with plain floats; with ``checkpoint=True`` it is
called as ``report(metrics, state=...)`` where ``state`` restores the trial through ``resume``.
"""
from __future__ import annotations

import dataclasses
import math
import time
import warnings
from typing import Any, Callable

import torch
from torch import nn

from trainables.config import TrialConfig
from trainables.data import DatasetBundle, load_dataset
from trainables.evaluation import evaluate
from trainables.losses import Objective, build_loss
from trainables.losses.softmax import CrossEntropy
from trainables.models import build_model
from trainables.optim import build_optimizer
from trainables.phases import Phase, epoch_plan, phases_of, scale_for

Report = Callable[..., None]


class TrialDiverged(RuntimeError):
    """The loss became NaN or infinite; the trial cannot continue."""


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device=cuda but no CUDA device is visible")
    return torch.device(name)


class Trial:
    """Model, objective, optimizers and data of one trial, built from its config."""

    def __init__(self, cfg: TrialConfig, data: DatasetBundle | None = None) -> None:
        self.cfg = cfg
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        torch.manual_seed(cfg.train.seed)
        self.device = pick_device(cfg.train.device)
        self.data = (data or load_dataset(cfg.data, self.device)).to(self.device)
        d, c = cfg.model.embedding_dim, self.data.num_classes
        self.model = build_model(cfg.model, self.data.in_channels, self.data.image_size).to(self.device)
        self.model = self.model.to(memory_format=torch.channels_last)  # faster convolutions on CUDA and CPU alike
        # the compiled module shares the model's parameters: state_dict, evaluation and Grad-CAM use the model
        self.train_model = torch.compile(self.model) if cfg.train.compile else self.model
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        # Reading a loss on the host waits for the GPU: on CUDA the loss sums stay on the device and
        # are checked once per epoch; on the CPU a step's check costs nothing and stops a NaN at once.
        self.check_each_step = self.device.type != "cuda"
        self.objective = Objective(
            cfg.loss, c, d, self.data.head_classes, self.data.tail_classes,
            dynamic_scale=cfg.scale.schedule == "adacos_dynamic",
        ).to(self.device)
        # CE pre-training trains the classifier that the main phase goes on with when the output
        # loss is CE itself (seeds 000 and 001 continue one model); any other output loss starts
        # its own head after a pre-training head of its own
        shared = isinstance(self.objective.output, CrossEntropy)
        self.pretrain_head = (
            self.objective.output if shared else build_loss("ce", num_classes=c, embedding_dim=d).to(self.device)
        )
        class_weights, other = self.objective.parameter_groups()
        backbone = [*self.model.parameters(), *other, *([] if shared else self.pretrain_head.parameters())]
        self.optimizer = build_optimizer(cfg.optim, backbone, class_weights)
        self.optimizers = {"primary": self.optimizer}
        # terms that ask for an optimizer of their own (seed 001: PC's centres by plain SGD) get one
        # for their parameters, at the class-weight lr; it steps with the primary optimizer
        self.term_optimizers = {
            name: build_optimizer(dataclasses.replace(cfg.optim, name=kind), [], params)
            for name, (kind, params) in self.objective.own_optimizer_terms().items()
        }
        self.optimizers.update(self.term_optimizers)
        self.secondary_optimizer = None
        if self.objective.has_secondary:
            kind = self.objective.secondary_optimizer_name or cfg.optim.name
            self.secondary_optimizer = build_optimizer(dataclasses.replace(cfg.optim, name=kind), backbone, class_weights)
            self.optimizers["secondary"] = self.secondary_optimizer
        # one schedule per optimizer: COT decays its second optimizer's lr with the first's
        self.lr_schedules = {
            name: torch.optim.lr_scheduler.MultiStepLR(
                optimizer, milestones=list(cfg.optim.lr_milestones), gamma=cfg.optim.lr_gamma
            )
            for name, optimizer in self.optimizers.items()
        }
        self.generator = torch.Generator().manual_seed(cfg.train.seed)
        self.next_epoch = 0
        self.final_phase = phases_of(cfg)[-1]

    def state_dict(self) -> dict[str, Any]:
        state = {
            "model": self.model.state_dict(),
            "objective": self.objective.state_dict(),
            "pretrain_head": self.pretrain_head.state_dict(),
            "optimizers": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
            "lr_schedules": {name: schedule.state_dict() for name, schedule in self.lr_schedules.items()},
            "generator": self.generator.get_state(),
            "next_epoch": self.next_epoch,
        }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        self.pretrain_head.load_state_dict(state["pretrain_head"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            self.lr_schedules[name].load_state_dict(state["lr_schedules"][name])
        self.generator.set_state(state["generator"])
        self.next_epoch = int(state["next_epoch"])

    def learning_rates(self) -> dict[str, float]:
        """The lr of each optimizer's first group now: ``lr`` (the primary's backbone),
        ``lr_secondary`` (COT's second optimizer), ``lr_<term>`` (a term's own, e.g. ``lr_pc``)."""
        return {
            "lr" if name == "primary" else f"lr_{name}": float(optimizer.param_groups[0]["lr"])
            for name, optimizer in self.optimizers.items()
        }

    def step_lr_schedules(self) -> None:
        """End of an epoch: every optimizer's lr follows ``optim.lr_milestones``, counted over all
        phases, also one that has not stepped yet (COT's second optimizer in CE pre-training)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            for schedule in self.lr_schedules.values():
                schedule.step()

    def forward(self, x: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
        """Embeddings of ``x`` by the trial's training model (compiled when ``train.compile``), or
        by ``model``, an evaluation copy of it."""
        model = model if model is not None else self.train_model
        x = x.contiguous(memory_format=torch.channels_last)
        if self.device.type == "cuda":  # bf16 only on CUDA: on this kind of CPU it is ~16x slower
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return model(x).float()
        return model(x)

    def logits(self, embeddings: torch.Tensor, phase: Phase) -> torch.Tensor:
        return self.objective.logits(embeddings) if phase.uses_objective else self.pretrain_head.logits(embeddings)

    def train_epoch(self, phase: Phase, epoch_in_phase: int) -> dict[str, float]:
        self.model.train()
        self.objective.train()
        data, bs = self.data, self.cfg.train.batch_size
        n_batches = max(1, math.ceil(len(data.train) / bs))
        sums: dict[str, torch.Tensor] = {}
        scale = 0.0
        batches = data.train.batches(
            bs, shuffle=True, generator=self.generator, augment=self.cfg.data.augment, flip=data.flip_ok
        )
        for b, (x, y) in enumerate(batches):
            scale = scale_for(self.cfg, phase, epoch_in_phase + b / n_batches, data.num_classes)
            terms = self._primary_step(x, y, phase, scale)
            if phase.uses_objective and self.secondary_optimizer is not None:
                terms.update(self._secondary_step(x, y, scale))
            for name, value in terms.items():
                sums[name] = sums[name] + value if name in sums else value
        _check_finite(sums, self.next_epoch)
        metrics = {f"train_loss_{k}" if k != "total" else "train_loss": float(v) / n_batches for k, v in sums.items()}
        metrics["scale"] = self.objective.effective_scale(scale) if phase.uses_objective else float("nan")
        metrics.update(self.learning_rates())  # the lrs this epoch trained with
        return metrics

    def _primary_step(self, x: torch.Tensor, y: torch.Tensor, phase: Phase, scale: float) -> dict[str, torch.Tensor]:
        embeddings = self.forward(x)
        if phase.uses_objective:
            terms = self.objective(embeddings, y, scale)
        else:
            terms = {"total": self.pretrain_head(embeddings, y)}
        if self.check_each_step:
            _check_finite(terms, self.next_epoch)
        steps = [self.optimizer, *self.term_optimizers.values()] if phase.uses_objective else [self.optimizer]
        for optimizer in steps:
            optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        for optimizer in steps:
            optimizer.step()
        if phase.uses_objective:
            self.objective.after_step(embeddings.detach(), y)
        return {k: v.detach().double() for k, v in terms.items()}

    def _secondary_step(self, x: torch.Tensor, y: torch.Tensor, scale: float) -> dict[str, torch.Tensor]:
        """Complement Objective Training's second update: fresh forward, its own optimizer."""
        loss = self.objective.secondary(self.forward(x), y, scale)
        if loss is None:
            return {}
        if self.check_each_step:
            _check_finite({"secondary": loss}, self.next_epoch)
        self.secondary_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.secondary_optimizer.step()
        return {"secondary": loss.detach().double()}


def _check_finite(terms: dict[str, torch.Tensor], epoch: int) -> None:
    for name, value in terms.items():
        if not torch.isfinite(value).all():
            raise TrialDiverged(f"loss term {name!r} became {float(value)} in epoch {epoch}")


def train(
    cfg: TrialConfig,
    report: Report,
    *,
    resume: dict[str, Any] | None = None,
    checkpoint: bool = False,
    data: DatasetBundle | None = None,
    artifacts_dir: str | None = None,
) -> dict[str, float]:
    """Train one trial; returns the last epoch's metrics plus the final evaluation.

    With ``artifacts_dir`` the trial writes its per-class recall, confusion matrix, class-weight
    cosine histogram and Grad-CAM grid there after its last epoch, before reporting that epoch.
    """
    trial = Trial(cfg, data)
    if resume is not None:
        trial.load_state_dict(resume)
    metrics: dict[str, float] = {}
    for epoch, phase, k in epoch_plan(cfg):
        if epoch < trial.next_epoch:
            continue
        started = time.perf_counter()
        metrics = {"epoch": epoch + 1, **trial.train_epoch(phase, k)}
        trial.step_lr_schedules()
        trial.next_epoch = epoch + 1
        metrics.update(evaluate(trial, phase, final=trial.next_epoch == cfg.train.total_epochs))
        metrics["epoch_time_s"] = time.perf_counter() - started
        metrics["phase_index"] = float(["pretrain", "main", "additional"].index(phase.name))
        if artifacts_dir is not None and trial.next_epoch == cfg.train.total_epochs:
            from trainables.artifacts import write_artifacts

            write_artifacts(trial, artifacts_dir)  # before the last report: a scheduler may stop the trial there
        if checkpoint:
            report(metrics, state=trial.state_dict())
        else:
            report(metrics)
    return metrics


__all__ = ["Trial", "TrialDiverged", "train", "pick_device"]
