"""TrialConfig: the flat round trip and the errors that name the key."""

from __future__ import annotations

import pytest

from trainables.config import ConfigError, TermConfig, TrialConfig


def test_default_round_trip():
    cfg = TrialConfig()
    assert TrialConfig.from_flat(cfg.to_flat()) == cfg


def test_nested_round_trip_with_params_terms_and_tuples():
    flat = {
        "data.name": "digits",
        "loss.output": "cosface",
        "loss.params.margin_cos": 0.35,
        "loss.terms.pc.weight": 0.1,
        "loss.terms.pc.classes": "head",
        "loss.terms.pc.optimizer": "sgd",
        "loss.terms.center.weight": 0.5,
        "loss.terms.center.params.alpha": 0.5,
        "scale.schedule": "linear",
        "scale.start": 20,
        "scale.end": 5,
        "optim.lr_milestones": "20,40",
        "train.additional_epochs": 3,
    }
    cfg = TrialConfig.from_flat(flat)
    assert cfg.loss.params == {"margin_cos": 0.35}
    assert cfg.loss.terms["pc"] == TermConfig(
        weight=0.1, classes="head", params={}, optimizer="sgd"
    )
    assert (
        cfg.loss.terms["center"].optimizer == ""
        and "loss.terms.center.optimizer" not in cfg.to_flat()
    )
    assert cfg.loss.terms["center"].params == {"alpha": 0.5}
    assert cfg.optim.lr_milestones == (20, 40)
    assert cfg.scale.start == 20.0 and isinstance(cfg.scale.start, float)
    again = TrialConfig.from_flat(cfg.to_flat())
    assert again == cfg
    assert again.to_flat()["optim.lr_milestones"] == "20,40"


def test_strings_from_mlflow_params_are_coerced():
    cfg = TrialConfig.from_flat({"train.epochs": "7", "data.augment": "False", "optim.lr": "0.01"})
    assert (cfg.train.epochs, cfg.data.augment, cfg.optim.lr) == (7, False, 0.01)


def test_config_is_frozen():
    cfg = TrialConfig()
    with pytest.raises(AttributeError):
        cfg.train.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "flat, fragment",
    [
        ({"train.epochz": 3}, "train.epochz"),
        ({"nonsense": 1}, "nonsense"),
        ({"train.epochs": 0}, "train.epochs=0"),
        ({"train.epochs": 2.5}, "train.epochs=2.5"),
        ({"scale.start": 0}, "scale.start=0"),
        ({"scale.start": -1}, "scale.start=-1"),
        ({"scale.schedule": "wiggly"}, "scale.schedule='wiggly'"),
        ({"loss.terms.pc.classes": "middle"}, "loss.terms.pc.classes='middle'"),
        ({"loss.terms.pc.colour": 1}, "loss.terms.pc.colour"),
        ({"loss.terms.pc.optimizer": "lbfgs"}, "loss.terms.pc.optimizer='lbfgs'"),
        ({"optim.name": "lbfgs"}, "optim.name='lbfgs'"),
        ({"data.num_classes": 1}, "data.num_classes=1"),
        ({"data.augment": "maybe"}, "data.augment='maybe'"),
    ],
)
def test_bad_values_name_the_key(flat, fragment):
    with pytest.raises(ConfigError) as info:
        TrialConfig.from_flat(flat)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_replace_changes_one_flat_key():
    cfg = TrialConfig().replace(scale__start=10.0)
    assert cfg.scale.start == 10.0 and cfg.scale.end == TrialConfig().scale.end


def test_search_labels_are_ignored():
    cfg = TrialConfig.from_flat({"search.feature": "pc", "loss.terms.pc.weight": 0.1})
    assert cfg.loss.terms["pc"].weight == 0.1
    assert not any(k.startswith("search.") for k in cfg.to_flat())
