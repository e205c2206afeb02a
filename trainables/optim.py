"""Optimizers by name, with a separate parameter group for class weights/proxies."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from trainables.config import OptimConfig
from trainables.registry import Registry

OPTIMIZERS: Registry[Callable[[list[dict], OptimConfig], torch.optim.Optimizer]] = Registry(
    "optimizer"
)


@OPTIMIZERS.register("sgd_momentum")
def sgd_momentum(groups: list[dict], cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


@OPTIMIZERS.register("sgd")
def sgd(groups: list[dict], cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


@OPTIMIZERS.register("adam")
def adam(groups: list[dict], cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def build_optimizer(
    cfg: OptimConfig,
    backbone: Iterable[torch.nn.Parameter],
    class_weights: Iterable[torch.nn.Parameter],
) -> torch.optim.Optimizer:
    """Backbone (and loss-internal, linear-head) parameters at ``lr`` with ``weight_decay``; class
    weights/proxies/centres at ``lr * class_weight_lr_multiplier``, no decay."""
    groups = [
        {"params": [p for p in backbone if p.requires_grad], "name": "backbone"},
        {
            "params": [p for p in class_weights if p.requires_grad],
            "lr": cfg.lr * cfg.class_weight_lr_multiplier,
            "weight_decay": 0.0,
            "name": "class_weights",
        },
    ]
    return OPTIMIZERS.get(cfg.name)([g for g in groups if g["params"]], cfg)
