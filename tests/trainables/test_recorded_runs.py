"""What real tiny studies leave in their MLflow store, read back with the analysis loader:
the cells' search labels, the margins CAMRI searched, both optimizers' learning rates under
Complement Objective Training, and the long tail's training and validation sizes."""

from __future__ import annotations

import itertools

import pytest

from study.presets import PRESETS
from tests.trainables.recorded_runs import run_small_preset

# loss_combos_study and camri_study: tests/conftest.py (real studies shared with tests/analysis)


@pytest.mark.slow
def test_every_trial_records_the_cell_it_belongs_to(loss_combos_study):
    _, trials = loss_combos_study
    grid = PRESETS.get("loss-combos").build("smoke", "")["grid"]
    assert trials["status"].eq("FINISHED").all()
    cells = list(zip(trials["param:search.output"], trials["param:search.feature"]))
    assert set(cells) == set(itertools.product(grid["search.output"], grid["search.feature"]))
    # each cell once per paired seed
    assert sorted(zip(cells, trials["param:train.seed"])) == sorted(
        (cell, seed) for cell in set(cells) for seed in (0, 1)
    )
    for _, run in trials.iterrows():  # the label and the config it stands for agree
        has_complement = run.get("param:loss.terms.complement.weight") == run.get(
            "param:loss.terms.complement.weight"
        )
        assert has_complement == (run["param:search.output"] == "complement_ce")


@pytest.mark.slow
def test_complement_cells_decay_both_learning_rates(loss_combos_study):
    from analysis.load import load_metric_histories

    store, trials = loss_combos_study
    with_complement = trials[trials["param:search.output"] == "complement_ce"]["run_id"].tolist()
    assert len(with_complement) == 6  # 3 cells x 2 seeds
    for metric in ("lr", "lr_secondary"):
        history = load_metric_histories(store, with_complement, metric)
        assert history["run_id"].nunique() == 6, metric
        for _, rows in history.groupby("run_id"):
            assert rows["step"].tolist() == [1, 2, 3]
            assert rows["value"].tolist() == pytest.approx([0.05, 0.05, 0.005]), metric


@pytest.mark.slow
def test_camri_searches_its_margin_and_scale(camri_study):
    """The camri preset fixes loss.output in its base; its margin and scale spaces still search (its
    cross-entropy baseline arm, one trial per seed, is tagged apart)."""
    _, trials = camri_study
    assert trials["tag:arm"].eq("baseline").sum() == 2
    trials = trials[trials["tag:arm"].ne("baseline")]
    assert len(trials) == 3 and trials["param:loss.output"].eq("camri").all()
    assert trials["param:loss.params.margin_rad"].nunique() == 3
    assert trials["param:scale.start"].nunique() == 3
    assert trials["metric:val_important_class_recall"].notna().all()


@pytest.fixture(scope="module")
def head_tail(tmp_path_factory):
    """head-tail at smoke size (long-tailed glyphs), four of its cells, one seed."""
    grid = {"search.pc_on": ["none", "head"], "search.complement_on": ["none", "tail"]}
    base = {
        "data.image_size": 16,
        "train.batch_size": 64,
        "train.pretrain_epochs": 1,
        "train.epochs": 1,
    }
    return run_small_preset(
        "head-tail", tmp_path_factory.mktemp("head-tail"), base, grid=grid, trials=4, seeds=1
    )


@pytest.mark.slow
def test_the_long_tail_trains_on_all_its_images(head_tail):
    """The recorded dataset input: the training split is the whole tail, validation the images it
    left, up to round(val_fraction * n_max) per class (the preset's smoke values)."""
    import json

    from mlflow.tracking import MlflowClient

    from trainables.config import TrialConfig
    from trainables.data import long_tail_counts

    store, trials = head_tail
    data = TrialConfig.from_flat(PRESETS.get("head-tail").build("smoke", "")["base"]).data
    n_max = data.max_per_class
    counts = long_tail_counts(data.num_classes, n_max, data.imbalance_ratio)
    per_class_val = int(data.val_fraction * n_max + 0.5)  # rounded half up, as the data does
    assert data.imbalance_ratio > 1 and sum(counts) < data.num_classes * n_max  # a real tail
    client = MlflowClient(tracking_uri=store)
    for run_id in trials["run_id"]:
        (dataset_input,) = client.get_run(run_id).inputs.dataset_inputs
        profile = json.loads(dataset_input.dataset.profile)
        assert profile["train_images"] == sum(counts)
        assert profile["val_images"] == sum(min(per_class_val, n_max - n) for n in counts)


@pytest.mark.slow
def test_head_tail_trains_pc_centres_with_plain_sgd(head_tail):
    store, trials = head_tail
    assert trials["status"].eq("FINISHED").all() and len(trials) == 4
    for _, run in trials.iterrows():
        pc_on, complement_on = (
            run["param:search.pc_on"] != "none",
            run["param:search.complement_on"] != "none",
        )
        assert (run.get("param:loss.terms.pc.optimizer") == "sgd") == pc_on
        assert (run.get("param:loss.terms.complement.optimizer") == "sgd_momentum") == complement_on
        assert (run.get("metric:lr_pc") == 0.05) == pc_on  # its own optimizer reported its lr
        assert (run.get("metric:lr_secondary") == 0.05) == complement_on
