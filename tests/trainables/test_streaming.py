"""Large image folders stream through a DataLoader (StreamingSplit), forced here by the env var."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainables.config import DataConfig, TrialConfig
from trainables.data import Split, StreamingSplit, load_dataset
from trainables.data.streaming import STREAM_ENV
from trainables.routine import train

CPU = torch.device("cpu")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """3 classes x 8 RGB PNGs of 12x12 pixels."""
    rng = np.random.default_rng(0)
    for c in ("ant", "bee", "cow"):
        (tmp_path / "f" / c).mkdir(parents=True)
        for i in range(8):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(
                tmp_path / "f" / c / f"{i}.png"
            )
    return tmp_path / "f"


def _load(root: Path):
    return load_dataset(
        DataConfig(name="image_folder", root=str(root), image_size=16, val_fraction=0.2), CPU
    )


def test_streamed_splits_match_the_in_memory_ones(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resident = _load(root)
    assert isinstance(resident.train, Split)
    monkeypatch.setenv(STREAM_ENV, "0")
    streamed = _load(root)
    for name in ("train", "val", "test"):
        s, r = getattr(streamed, name), getattr(resident, name)
        assert isinstance(s, StreamingSplit)
        assert len(s) == len(r) and torch.equal(s.y, r.y)  # same files, same labels, same order
        x, y = next(s.batches(64, shuffle=False))
        assert (
            x.dtype == torch.float32 and y.dtype == torch.int64 and x.shape == (len(s), 3, 16, 16)
        )
        # fewer than STATS_SAMPLE training images: the statistics are those of all of them, as in memory
        assert torch.allclose(x, r.x, atol=1e-5) and torch.equal(y, r.y)
        assert torch.allclose(s.x[:2], r.x[:2], atol=1e-5) and s.x.shape == r.x.shape
    assert streamed.in_channels == 3 and streamed.image_size == 16
    assert torch.equal(streamed.class_counts, resident.class_counts)


def test_shuffle_is_seeded_and_augmentation_keeps_shapes(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STREAM_ENV, "0")
    split = _load(root).train

    def epoch(seed: int, augment: bool = False) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return [y for _, y in split.batches(5, shuffle=True, generator=g, augment=augment)]

    first, again = epoch(3), epoch(3)
    assert all(torch.equal(a, b) for a, b in zip(first, again)) and len(first) == len(again)
    assert sorted(torch.cat(first).tolist()) == sorted(split.y.tolist())
    shapes = [
        x.shape
        for x, _ in split.batches(
            5, shuffle=True, generator=torch.Generator().manual_seed(0), augment=True
        )
    ]
    assert shapes[0] == (5, 3, 16, 16) and sum(s[0] for s in shapes) == len(split)


def test_train_one_epoch_on_a_streamed_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STREAM_ENV, "0")
    cfg = TrialConfig.from_flat(
        {
            "data.name": "image_folder",
            "data.root": str(root),
            "data.image_size": 16,
            "train.epochs": 1,
            "train.batch_size": 8,
            "data.val_fraction": 0.2,
        }
    )
    out = train(cfg, lambda m: None)
    assert 0.0 <= out["val_accuracy"] <= 1.0 and 0.0 <= out["test_accuracy"] <= 1.0


@pytest.mark.parametrize("name, fixture", [("cub200", "cub_root"), ("cars196", "cars_root")])
def test_retrieval_folders_stream_with_the_same_split(
    name: str, fixture: str, request, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_root = request.getfixturevalue(fixture)
    cfg = DataConfig(name=name, root=str(data_root), image_size=8)
    resident = load_dataset(cfg, CPU)
    monkeypatch.setenv(STREAM_ENV, "0")
    streamed = load_dataset(cfg, CPU)
    assert streamed.retrieval and isinstance(streamed.test, StreamingSplit)
    assert torch.equal(streamed.test.y, resident.test.y) and torch.equal(
        streamed.class_counts, resident.class_counts
    )
    assert torch.allclose(
        next(streamed.test.batches(4, shuffle=False))[0], resident.test.x[:4], atol=1e-5
    )


def test_missing_file_fails_at_load_time(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainables.data import DatasetError
    from trainables.data.streaming import images_or_paths

    with pytest.raises(DatasetError, match="missing"):
        images_or_paths(
            [root / "ant" / "0.png", root / "ant" / "nope.png"], 16, "layout", stream=True
        )
