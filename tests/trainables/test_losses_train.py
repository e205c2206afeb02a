"""Every loss trains the digits through the real routine to well above chance (10%)."""

from __future__ import annotations

import pytest

from trainables.config import TrialConfig
from trainables.losses import LOSSES
from trainables.routine import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# every loss that can be the output term alone (not a feature-space term, not a second update)
OUTPUTS = [
    n for n in LOSSES.names() if LOSSES.get(n).output_space and not LOSSES.get(n).secondary_update
]
CASES = {name: {"loss.output": name} for name in OUTPUTS}
CASES["camri"]["data.important_class"] = 3  # CAMRI's margin acts on one class, which it needs named
CASES["ce+center"] = {"loss.output": "ce", "loss.terms.center.weight": 0.01}
CASES["ce+pc"] = {"loss.output": "ce", "loss.terms.pc.weight": 0.1}
CASES["ce+complement"] = {"loss.output": "ce", "loss.terms.complement.weight": 1.0}
CASES["normface+adacos_dynamic"] = {"loss.output": "normface", "scale.schedule": "adacos_dynamic"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trains_digits_above_chance(case):
    flat = {
        "data.name": "digits",
        "data.max_per_class": 60,
        "data.augment": False,
        "model.embedding_dim": 16,
        "optim.name": "adam",
        "optim.lr": 0.003,
        "train.epochs": 3,
        "train.batch_size": 32,
        "train.threads": 1,
        "train.device": "cpu",
        "scale.start": 10.0,
        "scale.end": 10.0,
        **CASES[case],
    }
    reports: list[dict] = []
    summary = train(TrialConfig.from_flat(flat), report=reports.append)
    assert len(reports) == 3
    assert summary["test_accuracy"] > 0.5, summary
