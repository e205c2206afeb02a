"""Validation classes of a retrieval dataset (``data.val_classes``): held out of the training half,
disjoint from the training and the test classes, and measured by Recall@1 every epoch
(``val_recall_at_1``), the metric scale-schedules selects on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from trainables.config import DataConfig, TrialConfig
from trainables.data import DatasetError, load_dataset
from trainables.evaluation import validation_recall

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("stream", [False, True])
def test_validation_classes_are_disjoint_from_training_and_test_classes(
    tmp_path: Path, monkeypatch, stream
):
    from tests.trainables.conftest import write_cub

    if stream:  # the folder datasets stream their files above a size: the same split by class
        monkeypatch.setenv("STUDY_STREAM_ABOVE_IMAGES", "0")
    root = write_cub(tmp_path / "data", num_classes=12, per_class=3)
    b = load_dataset(DataConfig(name="cub200", root=str(root), image_size=16, val_classes=2), CPU)
    names = [f"{c:03d}.Bird_{c}" for c in range(1, 13)]
    # 6 training-half classes less 2
    assert b.class_names == tuple(names[:4]) and b.num_classes == 4
    assert b.val_class_names == tuple(names[4:6])
    # the test classes are the thesis's second half, unchanged
    assert b.test_class_names == tuple(names[6:])
    assert len(b.val_unseen) == 2 * 3 and sorted(b.val_unseen.y.tolist()) == [0, 0, 0, 1, 1, 1]
    assert len(b.test) == 6 * 3 and sorted(set(b.test.y.tolist())) == list(range(6))
    assert (
        len(b.train) + len(b.val) == 4 * 3 and int(b.train.y.max()) < 4 and int(b.val.y.max()) < 4
    )


def test_the_glyph_retrieval_split_of_scale_schedules_at_smoke_size():
    from study.presets import PRESETS

    base = PRESETS.get("scale-schedules").build("smoke", "")["base"]
    data = {k[len("data.") :]: v for k, v in base.items() if k.startswith("data.")}
    b = load_dataset(DataConfig(**{**data, "image_size": 16}), CPU)
    train, val, test = set(b.class_names), set(b.val_class_names), set(b.test_class_names)
    assert (len(train), len(val), len(test)) == (6, 4, 10)
    assert not train & val and not train & test and not val & test
    assert set(b.val_unseen.y.tolist()) == set(range(4))
    # no image of a validation class is among the training or test images: the renders differ per class
    pixels = {bytes(x.numpy().tobytes()) for x in b.val_unseen.x}
    assert not pixels & {bytes(x.numpy().tobytes()) for x in b.train.x}


def test_validation_classes_that_leave_too_few_classes_are_one_line(tmp_path: Path):
    from tests.trainables.conftest import write_cub

    root = write_cub(tmp_path / "data", num_classes=10, per_class=2)
    # one validation class has no Recall@1 to speak of; four of five leave one training class
    for bad in (1, 4):
        with pytest.raises(
            DatasetError, match=rf"data.val_classes={bad}: .*\(5 of 10 classes\).* expected 2\.\.3$"
        ) as err:
            load_dataset(
                DataConfig(name="cub200", root=str(root), image_size=16, val_classes=bad), CPU
            )
        assert "\n" not in str(err.value)
    root = write_cub(tmp_path / "small", num_classes=6, per_class=2)
    with pytest.raises(DatasetError, match="at least 4"):
        load_dataset(DataConfig(name="cub200", root=str(root), image_size=16, val_classes=2), CPU)


def test_a_classification_dataset_refuses_validation_classes():
    with pytest.raises(DatasetError, match="data.val_classes=2 .* classification dataset") as err:
        load_dataset(DataConfig(name="digits", val_classes=2), CPU)
    assert "\n" not in str(err.value)


def test_validation_recall_on_a_hand_built_case():
    """Unit vectors at 0, 8, 90 and 11.5 degrees, classes 0, 0, 1, 1: the first finds its own class
    (8 degrees away), the second the 11.5-degree point (3.5 away, class 1), the third 11.5 (class 1,
    78.5 away, against 82), the fourth 8 (class 0): Recall@1 = 2/4."""
    angles = torch.tensor([0.0, 8.0, 90.0, 11.5]) * math.pi / 180
    embeddings = torch.stack([angles.cos(), angles.sin()], dim=1)
    assert validation_recall(embeddings, torch.tensor([0, 0, 1, 1])) == {"val_recall_at_1": 0.5}
    assert validation_recall(embeddings, torch.tensor([0, 0, 0, 0])) == {"val_recall_at_1": 1.0}


def test_every_epoch_reports_recall_at_1_on_the_validation_classes(tmp_path: Path):
    from tests.trainables.conftest import write_cub
    from trainables import metrics
    from trainables.evaluation import embed, evaluate
    from trainables.phases import phases_of
    from trainables.routine import train
    from trainables.state import TrialState

    root = write_cub(tmp_path / "data", num_classes=12, per_class=4)
    cfg = TrialConfig.from_flat(
        {
            "data.name": "cub200",
            "data.root": str(root),
            "data.image_size": 16,
            "data.val_classes": 2,
            "data.augment": False,
            "loss.output": "softtriple",
            "loss.params.centers_per_class": 2,
            "model.embedding_dim": 8,
            "train.epochs": 2,
            "train.batch_size": 8,
            "optim.name": "adam",
            "optim.lr": 1e-3,
        }
    )
    history = []
    train(cfg, history.append)
    assert [0.0 <= m["val_recall_at_1"] <= 1.0 for m in history] == [True, True]
    # the metric is Recall@1 over the validation classes' embeddings, not the test's
    state = TrialState(cfg)
    found = evaluate(state, phases_of(cfg)[-1], final=True).metrics
    expected = metrics.recall_at_k(
        embed(state, state.data.val_unseen), state.data.val_unseen.y, (1,)
    )[1]
    assert found["val_recall_at_1"] == pytest.approx(expected)
    assert "test_recall_at_1" in found and "val_accuracy" in found
