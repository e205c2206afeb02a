"""What real tiny studies leave in their MLflow store, read back with the analysis loader:
the cells' search labels, the margins CAMRI searched, both optimizers' learning rates under
Complement Objective Training, and the long tail's training and validation sizes."""
from __future__ import annotations

import itertools

import pytest

from study.presets import PRESETS
from tests.trainables.recorded_runs import run_small_preset

SMALL = {"data.max_per_class": 30, "data.image_size": 16, "train.batch_size": 64}


@pytest.fixture(scope="module")
def loss_combos(tmp_path_factory):
    """loss-combos at smoke size on fewer images: 1 epoch of CE, 2 of the cell's losses, lr x0.1 after epoch 2."""
    base = {**SMALL, "train.pretrain_epochs": 1, "train.epochs": 2, "optim.lr_milestones": "2"}
    return run_small_preset("loss-combos", tmp_path_factory.mktemp("loss-combos"), base, seeds=1)


@pytest.mark.slow
def test_every_trial_records_the_cell_it_belongs_to(loss_combos):
    _, trials = loss_combos
    grid = PRESETS.get("loss-combos").build("smoke", "")["grid"]
    assert trials["status"].eq("FINISHED").all()
    cells = set(zip(trials["param:search.output"], trials["param:search.feature"]))
    assert cells == set(itertools.product(grid["search.output"], grid["search.feature"]))
    assert len(trials) == len(cells)
    for _, run in trials.iterrows():  # the label and the config it stands for agree
        has_complement = run.get("param:loss.terms.complement.weight") == run.get("param:loss.terms.complement.weight")
        assert has_complement == (run["param:search.output"] == "complement_ce")


@pytest.mark.slow
def test_complement_cells_decay_both_learning_rates(loss_combos):
    from analysis.load import load_metric_histories

    store, trials = loss_combos
    with_complement = trials[trials["param:search.output"] == "complement_ce"]["run_id"].tolist()
    assert len(with_complement) == 3
    for metric in ("lr", "lr_secondary"):
        history = load_metric_histories(store, with_complement, metric)
        assert history["run_id"].nunique() == 3, metric
        for _, rows in history.groupby("run_id"):
            assert rows["step"].tolist() == [1, 2, 3]
            assert rows["value"].tolist() == pytest.approx([0.05, 0.05, 0.005]), metric


@pytest.mark.slow
def test_camri_searches_its_margin_and_scale(tmp_path):
    """The camri preset fixes loss.output in its base; its margin and scale spaces still search."""
    _, trials = run_small_preset("camri", tmp_path, {**SMALL, "train.epochs": 1}, trials=3)
    assert len(trials) == 3 and trials["param:loss.output"].eq("camri").all()
    assert trials["param:loss.params.margin_rad"].nunique() == 3
    assert trials["param:scale.start"].nunique() == 3
    assert trials["metric:val_important_class_recall"].notna().all()
