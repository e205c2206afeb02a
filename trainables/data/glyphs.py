"""The built-in default dataset: characters rendered from the fonts found on the machine.

Classes are characters (glyph_tiers.py); examples are (font, augmentation) pairs. Train and
test images come from disjoint fonts (glyph_inventory.py: every 4th font is a test font), the
validation split is drawn from the train fonts' images or, with ``data.validation =
unseen_fonts``, rendered from half of each class's unseen fonts (the other half stays the test
set; see ``split_fonts``), and look-alike characters are removed so that no two classes share a
render. Images are 1-channel, ``data.image_size`` (default 32)
pixels, with random scale, rotation, shift, stroke width and noise (glyph_render.py).

``data.num_classes = 0`` means the digits and Latin letters that survive deduplication (53 with
matplotlib's and DejaVu's fonts); larger counts draw ``num_classes`` characters with
``data.subset_seed`` from the smallest prefix of tiers that holds them, or from every tier with
``data.class_pool = all`` (386 at most with those fonts; the error names the maximum). Each class gets ``data.max_per_class`` (default 200)
train-font images, spread round-robin over its train fonts, and ``data.test_per_class`` (default 50)
test-font images.

The renders are deterministic (fixed seeds per character and font) and cached under
``$STUDY_CACHE_DIR/glyphs`` keyed by a hash of everything that defines them.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any

import numpy as np
import torch

from trainables.config import DataConfig
from trainables.data.assemble import classification_bundle
from trainables.data.base import DATASETS, DatasetBundle
from trainables.data.cache import cached
from trainables.data.errors import DatasetError
from trainables.data.glyph_inventory import glyph_inventory
from trainables.data.glyph_render import GlyphRasterizer, add_noise, draw_augment, place
from trainables.data.glyph_tiers import GLYPH_TIERS
from trainables.data.subsets import choose_classes

__all__ = ["GLYPH_TEST_PER_CLASS", "GLYPH_TRAIN_PER_CLASS", "glyph_arrays", "glyph_class_pool"]

GLYPH_IMAGE_SIZE = 32  # pixels, when data.image_size is 0
GLYPH_TRAIN_PER_CLASS = (
    200  # train-font images per class (train + validation) when data.max_per_class is 0
)
GLYPH_TEST_PER_CLASS = 50  # test-font images per class
GLYPH_VAL_PER_CLASS = 25  # validation-font images per class (data.validation = unseen_fonts)
RENDER_SEED = 7919  # renders depend on (character, font, split, copy) only, never on data seeds
SAMPLES_VERSION = 1  # bump when rendering changes


def glyph_class_pool(num_classes: int, pool: str = "smallest") -> dict[str, Any]:
    """The inventory of the smallest tier prefix with at least ``num_classes`` characters
    (0 = the first tier), or with ``pool="all"`` of every tier, so that the classes one seed
    draws at a smaller C are a subset of those it draws at a larger C; a one-line DatasetError
    naming the maximum when there are too few."""
    first = len(GLYPH_TIERS) if pool == "all" else 1
    for k in range(first, len(GLYPH_TIERS) + 1):
        inv = glyph_inventory(k)
        if num_classes <= len(inv["chars"]):
            return inv
    raise DatasetError(
        f"data.num_classes={num_classes} is too many: the glyph dataset has at most {len(inv['chars'])} "
        f"classes with the {len(inv['fonts'])} fonts on this machine"
    )


def _render_class(
    rast: GlyphRasterizer,
    char: str,
    fonts: list[int],
    names: list[str],
    count: int,
    split: int,
    size: int,
):
    images = np.empty((count, size, size), dtype=np.uint8)
    font_of = np.empty(count, dtype=np.int64)
    row = 0
    for slot, font in enumerate(fonts):
        copies = count // len(fonts) + (slot < count % len(fonts))
        rng = np.random.default_rng(
            [RENDER_SEED, split, ord(char), zlib.crc32(names[font].encode())]
        )
        for _ in range(copies):
            aug = draw_augment(rng)
            images[row] = add_noise(
                place(rast.raster(font, char, aug.stroke_px), size, aug), aug.noise_std, rng
            )
            font_of[row] = font
            row += 1
    return images, font_of


def split_fonts(
    support: list[int], test_fonts: list[bool], splits: tuple[str, ...]
) -> dict[str, list[int]]:
    """One character's fonts per split: its train fonts, and its unseen (test) fonts; with a
    ``val`` split the unseen fonts alternate (in font order) between validation and test, so the
    two never share a font and both exist for every class (each has >= MIN_TEST_FONTS = 2)."""
    unseen = [f for f in support if test_fonts[f]]
    fonts = {"train": [f for f in support if not test_fonts[f]], "test": unseen}
    if "val" in splits:
        fonts.update(val=unseen[0::2], test=unseen[1::2])
    return fonts


SPLIT_IDS = {"train": 0, "test": 1, "val": 2}  # seeds the renders of each split


def _render(
    inv: dict[str, Any], chars: list[str], per_class: dict[str, int], size: int
) -> dict[str, Any]:
    rast = GlyphRasterizer(inv["font_paths"])
    support = dict(zip(inv["chars"], inv["support"]))
    out: dict[str, Any] = {"chars": chars, "fonts": inv["fonts"]}
    for split in per_class:
        xs, fonts, ys = [], [], []
        for label, c in enumerate(chars):
            mine = split_fonts(support[c], inv["test_fonts"], tuple(per_class))[split]
            images, font_of = _render_class(
                rast, c, mine, inv["fonts"], per_class[split], SPLIT_IDS[split], size
            )
            xs.append(images)
            fonts.append(font_of)
            ys.append(np.full(len(images), label))
        out[f"{split}_x"] = torch.from_numpy(np.concatenate(xs)).unsqueeze(1)
        out[f"{split}_y"] = torch.from_numpy(np.concatenate(ys).astype(np.int64))
        out[f"{split}_font"] = torch.from_numpy(np.concatenate(fonts))
    return out


def glyph_arrays(cfg: DataConfig) -> dict[str, Any]:
    """uint8 images, labels and font indices of the train-font pool and the test fonts (and, with
    ``data.validation = unseen_fonts``, of validation fonts apart from both)."""
    inv = glyph_class_pool(cfg.num_classes, cfg.class_pool)
    chosen = choose_classes(len(inv["chars"]), cfg.num_classes, cfg.subset_seed, "glyphs")
    chars = [inv["chars"][i] for i in chosen.tolist()]
    per_class = {
        "train": cfg.max_per_class or GLYPH_TRAIN_PER_CLASS,
        "test": cfg.test_per_class or GLYPH_TEST_PER_CLASS,
    }
    if cfg.validation == "unseen_fonts":
        per_class["val"] = cfg.val_per_class or GLYPH_VAL_PER_CLASS
    size = cfg.image_size or GLYPH_IMAGE_SIZE
    params = {
        "version": SAMPLES_VERSION,
        "seed": RENDER_SEED,
        "chars": chars,
        "per_class": per_class,
        "size": size,
        "fonts": inv["fonts"],
        "font_paths": inv["font_paths"],
        "test_fonts": inv["test_fonts"],
    }
    return cached("glyphs", params, lambda: _render(inv, chars, per_class, size))


@DATASETS.register("glyphs")
def glyphs(cfg: DataConfig) -> DatasetBundle:
    """Rendered characters, train and test fonts disjoint; see the module docstring."""
    a = glyph_arrays(cfg)
    names = tuple(f"U+{ord(c):04X} {c}" for c in a["chars"])
    chosen = dataclasses.replace(cfg, num_classes=0)  # glyph_arrays already drew the classes
    val = (a["val_x"], a["val_y"]) if "val_x" in a else None
    return classification_bundle(
        a["train_x"],
        a["train_y"],
        a["test_x"],
        a["test_y"],
        names,
        chosen,
        name="glyphs",
        flip_ok=False,
        val=val,
    )
