"""The important class is a fact of the data (``data.important_class``): every loss's evaluation
reports its recall, CAMRI takes its margin class from it, and the old key still loads."""

from __future__ import annotations

import math

import pytest

from trainables.config import ConfigError, TrialConfig
from trainables.validate import check_data, check_names

DIGITS = {
    "data.name": "digits",
    "data.augment": False,
    "model.embedding_dim": 32,
    "train.batch_size": 64,
    "train.threads": 1,
    "train.epochs": 1,
}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_old_loss_key_loads_as_the_data_key():
    cfg = TrialConfig.from_flat({"loss.output": "camri", "loss.params.important_class": "3"})
    assert cfg.data.important_class == 3 and dict(cfg.loss.params) == {}
    assert (
        cfg.to_flat()["data.important_class"] == 3
        and "loss.params.important_class" not in cfg.to_flat()
    )
    same = TrialConfig.from_flat({"loss.params.important_class": 3, "data.important_class": 3.0})
    assert same.data.important_class == 3


def test_the_old_and_the_new_key_disagreeing_is_one_line_naming_both():
    with pytest.raises(ConfigError) as err:
        TrialConfig.from_flat({"loss.params.important_class": 3, "data.important_class": 2})
    message = str(err.value)
    assert (
        "\n" not in message
        and "loss.params.important_class=3" in message
        and "set only data.important_class" in message
    )


def test_camri_without_an_important_class_says_where_to_set_it():
    with pytest.raises(ConfigError, match="camri needs data.important_class"):
        check_names(TrialConfig.from_flat({**DIGITS, "loss.output": "camri"}))
    with pytest.raises(
        ConfigError,
        match=r"loss.terms.camri.params.important_class is a fact of the data: set data.important_class",
    ):
        check_names(TrialConfig.from_flat({**DIGITS, "loss.terms.camri.params.important_class": 3}))
    with pytest.raises(
        ConfigError,
        match=r"data.important_class=-2 is invalid: expected -1 \(none\) or a class index",
    ):
        TrialConfig.from_flat({**DIGITS, "data.important_class": -2})
    with pytest.raises(ConfigError, match="data.val_classes=-1 is invalid"):
        TrialConfig.from_flat({**DIGITS, "data.val_classes": -1})
    with pytest.raises(
        ConfigError, match=r"data.important_class=10 is not a class; expected -1 \(none\) or 0..9"
    ):
        check_data(TrialConfig.from_flat({**DIGITS, "data.important_class": 10}))


def test_camri_puts_its_margin_on_the_data_s_important_class():
    from trainables.state import TrialState

    state = TrialState(
        TrialConfig.from_flat({**DIGITS, "loss.output": "camri", "data.important_class": 7})
    )
    assert state.objective.output.important_class == 7


def test_cross_entropy_reports_the_important_class_recall_too():
    from trainables.routine import train

    history = []
    final = train(TrialConfig.from_flat({**DIGITS, "data.important_class": 3}), history.append)
    assert 0.0 <= history[0]["val_important_class_recall"] <= 1.0
    assert math.isfinite(final["test_important_class_recall"])
    # the same class's recall
    assert final["test_important_class_recall"] == pytest.approx(final["test_class_3_recall"])
    plain = train(TrialConfig.from_flat(DIGITS), lambda m: None)
    assert "val_important_class_recall" not in plain and "test_important_class_recall" not in plain
