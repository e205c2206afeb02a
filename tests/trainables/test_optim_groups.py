"""Which optimizer group a loss's weight trains in: a linear head's weight is an ordinary layer
weight (backbone lr, weight decay, like its bias); normalised class weights and proxies train in
the class-weight group (lr * class_weight_lr_multiplier, no decay)."""

from __future__ import annotations

import pytest

from trainables.config import TrialConfig
from trainables.state import TrialState

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FLAT = {
    "data.name": "digits",
    "data.augment": False,
    "model.embedding_dim": 16,
    "train.epochs": 1,
    "train.threads": 1,
    "optim.lr": 0.05,
    "optim.weight_decay": 1e-3,
    "optim.class_weight_lr_multiplier": 10.0,
}


def group_of(trial: TrialState, parameter) -> dict:
    (group,) = [g for g in trial.optimizer.param_groups if any(p is parameter for p in g["params"])]
    return group


@pytest.mark.parametrize(
    "output, group, lr, weight_decay",
    [
        ("ce", "backbone", 0.05, 1e-3),
        ("bce", "backbone", 0.05, 1e-3),
        ("mse", "backbone", 0.05, 1e-3),
        ("normface", "class_weights", 0.5, 0.0),
        ("proxy_nca", "class_weights", 0.5, 0.0),
        ("softtriple", "class_weights", 0.5, 0.0),
    ],
)
def test_the_output_weight_trains_in_its_group(output, group, lr, weight_decay):
    trial = TrialState(TrialConfig.from_flat({**FLAT, "loss.output": output}))
    chosen = group_of(trial, trial.objective.output.weight)
    assert chosen["name"] == group
    assert chosen["lr"] == pytest.approx(lr)
    assert chosen["weight_decay"] == pytest.approx(weight_decay)


def test_a_linear_heads_weight_and_bias_share_the_backbones_group():
    trial = TrialState(TrialConfig.from_flat({**FLAT, "loss.output": "ce"}))
    head = trial.objective.output
    assert group_of(trial, head.weight) is group_of(trial, head.bias)
    assert group_of(trial, head.weight) is group_of(trial, next(trial.model.parameters()))
    assert [g["name"] for g in trial.optimizer.param_groups] == ["backbone"]
