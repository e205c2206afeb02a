"""The state of one trial being trained: its data, model, objective, optimizers and lr schedules,
built from its config, with the checkpoint that restores it. The loop that steps it is
``trainables.routine``; evaluation and artifacts read it.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import torch
from torch import nn

from trainables.config import TrialConfig
from trainables.data import DatasetBundle, load_dataset
from trainables.losses import CrossEntropy, Objective, build_loss
from trainables.models import build_model
from trainables.optim import build_optimizer
from trainables.phases import Phase, phases_of


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device=cuda but no CUDA device is visible")
    return torch.device(name)


class TrialState:
    """Model, objective, optimizers and data of one trial, built from its config."""

    def __init__(self, cfg: TrialConfig, data: DatasetBundle | None = None) -> None:
        self.cfg = cfg
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        torch.manual_seed(cfg.train.seed)
        self.device = pick_device(cfg.train.device)
        self.data = (data or load_dataset(cfg.data, self.device)).to(self.device)
        d, c = cfg.model.embedding_dim, self.data.num_classes
        self.model = build_model(cfg.model, self.data.in_channels, self.data.image_size).to(
            self.device
        )
        # faster convolutions on CUDA and CPU alike
        self.model = self.model.to(memory_format=torch.channels_last)
        # the compiled module shares the model's parameters: state_dict, evaluation and Grad-CAM use the model
        self.train_model = torch.compile(self.model) if cfg.train.compile else self.model
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        # Reading a loss on the host waits for the GPU: on CUDA the loss sums stay on the device and
        # are checked once per epoch; on the CPU a step's check costs nothing and stops a NaN at once.
        self.check_each_step = self.device.type != "cuda"
        self.objective = Objective(
            cfg.loss,
            c,
            d,
            self.data.head_classes,
            self.data.tail_classes,
            dynamic=cfg.scale.schedule == "adacos_dynamic",
            data={"important_class": cfg.data.important_class},
        ).to(self.device)
        # CE pre-training trains the classifier that the main phase goes on with when the output
        # loss is CE itself (seeds 000 and 001 continue one model); any other output loss starts
        # its own head after a pre-training head of its own
        shared = isinstance(self.objective.output, CrossEntropy)
        self.pretrain_head = (
            self.objective.output
            if shared
            else build_loss("ce", num_classes=c, embedding_dim=d).to(self.device)
        )
        class_weights, other = self.objective.parameter_groups()
        backbone = [
            *self.model.parameters(),
            *other,
            *([] if shared else self.pretrain_head.parameters()),
        ]
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
            self.secondary_optimizer = build_optimizer(
                dataclasses.replace(cfg.optim, name=kind), backbone, class_weights
            )
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
        """Everything a resumed trial needs to continue exactly: parameters, optimizers, lr
        schedules, the data-order generator and torch's global RNGs (dropout masks): the CPU's,
        and every CUDA device's when the trial runs on CUDA."""
        return {
            "model": self.model.state_dict(),
            "objective": self.objective.state_dict(),
            "pretrain_head": self.pretrain_head.state_dict(),
            "optimizers": {
                name: optimizer.state_dict() for name, optimizer in self.optimizers.items()
            },
            "lr_schedules": {
                name: schedule.state_dict() for name, schedule in self.lr_schedules.items()
            },
            "generator": self.generator.get_state(),
            "cpu_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "next_epoch": self.next_epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        self.pretrain_head.load_state_dict(state["pretrain_head"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            self.lr_schedules[name].load_state_dict(state["lr_schedules"][name])
        self.generator.set_state(state["generator"])
        # checkpoints written before the global RNGs were saved lack these keys: they resume
        # with fresh dropout masks
        if "cpu_rng" in state:
            torch.set_rng_state(state["cpu_rng"])
        if self.device.type == "cuda" and state.get("cuda_rng"):
            torch.cuda.set_rng_state_all(state["cuda_rng"][: torch.cuda.device_count()])
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
            warnings.filterwarnings(
                "ignore", message=r"Detected call of `lr_scheduler.step\(\)` before"
            )
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
        return (
            self.objective.logits(embeddings)
            if phase.uses_objective
            else self.pretrain_head.logits(embeddings)
        )


__all__ = ["TrialState", "pick_device"]
