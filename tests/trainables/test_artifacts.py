"""The files a finished trial leaves behind, written by ``train(..., write_artifacts=...)``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from trainables.artifacts import write_artifacts
from trainables.config import TrialConfig
from trainables.routine import train

DIGITS = {
    "data.name": "digits",
    "data.augment": False,
    "model.embedding_dim": 16,
    "train.batch_size": 64,
    "train.epochs": 1,
    "train.threads": 1,
}


@pytest.mark.parametrize(("images", "gradcam"), [(16, True), (0, False)])
def test_a_trial_writes_its_artifacts_and_the_gradcam_grid_only_when_asked(
    images: int, gradcam: bool, tmp_path: Path
) -> None:
    cfg = TrialConfig.from_flat({**DIGITS, "train.gradcam_images": images})
    train(cfg, lambda metrics: None, write_artifacts=partial(write_artifacts, directory=tmp_path))
    written = {p.name for p in tmp_path.iterdir()}
    assert {"per_class_recall.csv", "confusion_matrix.png", "class_weight_cosines.png"} <= written
    assert ("gradcam.png" in written) is gradcam


def test_a_negative_gradcam_count_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"train\.gradcam_images=-1 is invalid: expected >= 0"):
        TrialConfig.from_flat({**DIGITS, "train.gradcam_images": -1})
