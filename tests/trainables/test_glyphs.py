"""The built-in glyph dataset: determinism, disjoint fonts, no duplicate classes, config handling."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from trainables.config import DataConfig
from trainables.data import DatasetError, glyph_inventory, glyphs, load_dataset, long_tail_counts
from trainables.data.cache import cache_dir
from trainables.data.fonts import discover_font_files, usable_faces
from trainables.data.glyph_render import GlyphRasterizer, place

SMALL = DataConfig(name="glyphs", num_classes=12, max_per_class=24)


def test_bundle_shape_and_flags() -> None:
    b = load_dataset(SMALL, torch.device("cpu"))
    assert b.num_classes == 12 and b.in_channels == 1 and b.image_size == 32 and not b.flip_ok
    assert b.class_counts.tolist() == [24] * 12
    assert torch.bincount(b.test.y).tolist() == [glyphs.GLYPH_TEST_PER_CLASS] * 12
    assert len(set(b.class_names)) == 12 and all(n.startswith("U+") for n in b.class_names)


def test_validation_and_test_images_per_class_follow_the_config() -> None:
    """``data.val_per_class`` and ``data.test_per_class`` set how many unseen-font images each
    class gets; validation and test fonts stay apart whatever the counts."""
    cfg = DataConfig(
        name="glyphs",
        num_classes=6,
        max_per_class=8,
        image_size=16,
        validation="unseen_fonts",
        val_per_class=7,
        test_per_class=3,
    )
    a = glyphs.glyph_arrays(cfg)
    assert np.bincount(a["val_y"].numpy()).tolist() == [7] * 6
    assert np.bincount(a["test_y"].numpy()).tolist() == [3] * 6
    for label in range(6):
        val_fonts = set(a["val_font"][a["val_y"] == label].tolist())
        test_fonts = set(a["test_font"][a["test_y"] == label].tolist())
        assert val_fonts and test_fonts and not val_fonts & test_fonts
    with pytest.raises(ValueError, match="test_per_class"):
        DataConfig(name="glyphs", test_per_class=-1)


def test_default_is_digits_and_latin_letters() -> None:
    inv = glyphs.glyph_class_pool(0)
    assert "0" in inv["chars"] and "A" in inv["chars"] and "Z" in inv["chars"]
    assert all(c.isascii() and c.isalnum() for c in inv["chars"])
    assert not {"o", "O"} <= set(inv["chars"])  # same shape at the same size: one class
    assert 40 <= len(inv["chars"]) <= 62


def test_two_builds_give_the_same_tensors_and_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the font inventory, built once in the session cache
    glyphs.glyph_class_pool(SMALL.num_classes)
    inventory = cache_dir() / "glyph_inventory"
    files = []
    arrays = []
    for run in ("a", "b"):
        # the renders are built afresh
        shutil.copytree(inventory, tmp_path / run / "glyph_inventory")
        monkeypatch.setenv("STUDY_CACHE_DIR", str(tmp_path / run))
        arrays.append(glyphs.glyph_arrays(SMALL))
        files.append(next((tmp_path / run / "glyphs").glob("*.pt")).read_bytes())
    for key in ("train_x", "train_y", "train_font", "test_x", "test_y", "test_font"):
        assert torch.equal(arrays[0][key], arrays[1][key]), key
    assert files[0] == files[1]


def test_train_and_test_fonts_are_disjoint() -> None:
    a = glyphs.glyph_arrays(SMALL)
    inv = glyphs.glyph_class_pool(SMALL.num_classes)
    train_fonts, test_fonts = set(a["train_font"].tolist()), set(a["test_font"].tolist())
    assert train_fonts and test_fonts and not train_fonts & test_fonts
    assert all(inv["test_fonts"][f] for f in test_fonts) and not any(
        inv["test_fonts"][f] for f in train_fonts
    )


def test_no_two_classes_render_identically() -> None:
    a = glyphs.glyph_arrays(SMALL)
    inv = glyphs.glyph_class_pool(SMALL.num_classes)
    rast = GlyphRasterizer(inv["font_paths"])
    for font in range(len(inv["fonts"])):
        chars = [c for c in a["chars"] if font in inv["support"][inv["chars"].index(c)]]
        renders = {place(rast.raster(font, c), 32).tobytes() for c in chars}
        assert len(renders) == len(chars)


def test_lookalikes_are_removed_by_render() -> None:
    faces = usable_faces(discover_font_files())
    rast = GlyphRasterizer([f.path for f in faces])
    chars = ["A", "\u0391", "\u0410", "o", "O", "E", "F"]  # Latin A, Greek Alpha, Cyrillic A
    support = [
        [i for i, f in enumerate(faces) if ord(c) in f.codepoints and rast.draws(i, c)]
        for c in chars
    ]
    kept = [chars[i] for i in glyph_inventory._deduplicate(rast, chars, support, len(faces))]
    assert kept == ["A", "o", "E", "F"]


def test_tofu_is_not_a_glyph() -> None:
    faces = usable_faces(discover_font_files())
    rast = GlyphRasterizer([f.path for f in faces])
    assert rast.draws(0, "A") and not rast.draws(0, "\U0010fff0")
    cm = [i for i, f in enumerate(faces) if f.name == "cmr10"]
    if cm:  # BaKoMa cmr10 draws an inverted exclamation mark at '<': refused by glyph name
        assert ord("<") not in faces[cm[0]].codepoints


def test_long_tail_and_subset_seed() -> None:
    b = load_dataset(
        DataConfig(name="glyphs", num_classes=12, max_per_class=24, imbalance_ratio=8.0),
        torch.device("cpu"),
    )
    assert b.class_counts.tolist() == long_tail_counts(12, 24, 8.0)
    other = glyphs.glyph_arrays(
        DataConfig(name="glyphs", num_classes=12, subset_seed=1, max_per_class=24)
    )
    assert other["chars"] != glyphs.glyph_arrays(SMALL)["chars"]


def test_too_many_classes_names_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    tiers = (("digits", "0123456789"), ("upper", "ABCDEFGH"))
    monkeypatch.setattr(glyphs, "GLYPH_TIERS", tiers)
    monkeypatch.setattr(glyph_inventory, "GLYPH_TIERS", tiers)
    assert len(glyphs.glyph_class_pool(12)["chars"]) >= 12  # the second tier was needed
    with pytest.raises(DatasetError, match=r"at most \d+ classes") as err:
        glyphs.glyph_class_pool(30)
    assert "\n" not in str(err.value)


def test_images_are_centered_ink_on_black() -> None:
    a = glyphs.glyph_arrays(SMALL)
    x = a["train_x"].float().numpy()
    assert x.shape[1:] == (1, 32, 32) and a["train_x"].dtype == torch.uint8
    border = np.concatenate([x[:, 0, 0], x[:, 0, -1], x[:, 0, :, 0], x[:, 0, :, -1]], axis=1).mean()
    assert border < x[:, 0, 12:20, 12:20].mean() / 3
