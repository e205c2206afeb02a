"""Each preset's settings at each size, pinned: a preset is its full size plus what the smaller
sizes change (``study.presets.base.sized``), and rewriting one must not move a value. The golden
rows are what `study run --preset P --size S` planned when the presets were positional triples."""

from __future__ import annotations

import pytest

from study.presets import PRESETS, SIZES
from study.presets.base import sized

# (preset, size): (trials, paired seeds, data.name, model.name, train.epochs (per group when it
# varies), batch size)
GOLDEN = {
    ("basics", "smoke"): (3, 2, "digits", "small_cnn", 3, 64),
    ("basics", "cpu"): (3, 3, "digits", "small_cnn", 15, 64),
    ("basics", "full"): (3, 3, "mnist", "small_cnn", 30, 64),
    ("camri", "smoke"): (4, 2, "glyphs", "small_cnn", 2, 128),
    ("camri", "cpu"): (24, 3, "glyphs", "small_cnn", 8, 128),
    ("camri", "full"): (64, 3, "cifar10", "resnet20", 200, 128),
    ("head-tail", "smoke"): (16, 2, "glyphs", "small_cnn", 3, 32),
    ("head-tail", "cpu"): (16, 3, "glyphs", "small_cnn", 8, 64),
    ("head-tail", "full"): (16, 3, "cifar100_lt", "resnet20", 300, 128),
    ("loss-combos", "smoke"): (6, 2, "glyphs", "small_cnn", 2, 128),
    ("loss-combos", "cpu"): (6, 3, "glyphs", "small_cnn", 8, 128),
    ("loss-combos", "full"): (6, 3, "cifar10", "resnet20", 200, 128),
    ("scale-schedules", "smoke"): (4, 0, "glyph_retrieval", "small_cnn", 2, 64),
    ("scale-schedules", "cpu"): (16, 0, "glyph_retrieval", "small_cnn", 4, 64),
    ("scale-schedules", "full"): (60, 0, "cub200", "googlenet", 50, 32),
    ("scale-vs-classes", "smoke"): (6, 0, "glyphs", "pool_cnn", (19, 11, 6), 64),
    ("scale-vs-classes", "cpu"): (40, 0, "glyphs", "pool_cnn", (36, 23, 14, 8, 5), 64),
    ("scale-vs-classes", "full"): (45, 0, "glyphs", "resnet20", (176, 91, 46, 23, 12), 64),
    ("smoke", "smoke"): (4, 0, "digits", "small_cnn", 4, 64),
    ("smoke", "cpu"): (24, 0, "digits", "small_cnn", 15, 64),
    ("smoke", "full"): (100, 0, "digits", "small_cnn", 30, 64),
}


@pytest.fixture(scope="module")
def weights_root(tmp_path_factory):
    """A --data-root holding the GoogLeNet weights file scale-schedules needs at full size."""
    from study.presets.scale_schedules import WEIGHTS_FILE

    root = tmp_path_factory.mktemp("data")
    (root / WEIGHTS_FILE).parent.mkdir(parents=True)
    (root / WEIGHTS_FILE).write_bytes(b"only its presence is checked when the plan is built")
    return str(root)


def test_every_preset_and_size_is_pinned():
    assert set(GOLDEN) == {(p, s) for p in PRESETS.names() for s in SIZES}


@pytest.mark.parametrize("preset, size", sorted(GOLDEN))
def test_a_preset_at_a_size_keeps_its_values(preset, size, weights_root):
    root = weights_root if (preset, size) == ("scale-schedules", "full") else ""
    fields = PRESETS.get(preset).build(size, root)
    base = fields["base"]
    epochs = base.get("train.epochs") or tuple(g["train.epochs"] for g in fields["groups"])
    got = (
        fields["trials"],
        fields.get("seeds", 0),
        base["data.name"],
        base["model.name"],
        epochs,
        base["train.batch_size"],
    )
    assert got == GOLDEN[preset, size]


def test_a_size_overrides_only_settings_the_full_size_has():
    full = {"train.epochs": 200, "seeds": 3}
    assert sized("full", full, {"smoke": {"train.epochs": 2}}) == full
    assert sized("smoke", full, {"smoke": {"train.epochs": 2}}) == {"train.epochs": 2, "seeds": 3}
    assert sized("cpu", full, {"smoke": {"train.epochs": 2}}) == full  # no overrides: the full size
    with pytest.raises(KeyError, match="train.epoch"):
        sized("smoke", full, {"smoke": {"train.epoch": 2}})  # a misspelt key fails, not ignored
    with pytest.raises(KeyError, match="huge"):
        sized("huge", full, {})
