"""Which characters can be glyph classes, and in which fonts.

For a prefix of ``GLYPH_TIERS`` this finds, once per machine (cached), the usable fonts, their
train/test assignment and the characters that become classes:

1. a character counts in a font when the font maps it to a glyph of that name (fonts.py), draws
   ink, and that ink is not the font's .notdef (tofu) box;
2. a character needs ``MIN_TRAIN_FONTS`` train fonts and ``MIN_TEST_FONTS`` test fonts;
3. two characters are duplicates when their clean, fitted renders lie within
   ``DUPLICATE_DISTANCE_PX`` of each other (99th percentile of the distance from each one's ink
   to the other's, both ways, measured at 64 px and expressed in 32 px pixels) in at least half
   the fonts that draw both; the earlier character (tier order) keeps the class. This removes
   Latin A / Greek Alpha / Cyrillic A and, since renders are fitted to the same size,
   o/O, c/C, s/S, v/V, w/W, x/X, z/Z. A cheap pre-filter (ink coverage within 2 px at 32 px,
   by matrix products) picks the pairs that get the exact test.

Every 4th font in name order (indices 1, 5, 9, ...) is a test font; the others train.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import distance_transform_edt

from trainables.data.cache import cached
from trainables.data.fonts import FontFace, discover_font_files, usable_faces
from trainables.data.glyph_render import GlyphRasterizer, place
from trainables.data.glyph_tiers import GLYPH_TIERS

__all__ = ["build_inventory", "glyph_inventory"]

MIN_TRAIN_FONTS = 4  # a class needs at least this many train fonts ...
MIN_TEST_FONTS = 2  # ... and this many test fonts
TEST_FONT_EVERY = (
    4  # font i (sorted by name) is a test font when i % 4 == 1: a quarter of the fonts
)
DUPLICATE_DISTANCE_PX = (
    2.4  # 32-px pixels; separates o/O (1.5), x/X (2.0) from b/h (3.1), 5/S (3.2)
)
PREFILTER_RADIUS_PX = 2.0  # 32-px pixels
PREFILTER_COVERAGE = (
    0.85  # median two-way ink coverage within the radius that triggers the exact test
)
INVENTORY_VERSION = 1  # bump when the rules above change


def _masks(rast: GlyphRasterizer, font: int, chars: list[str], size_px: int) -> np.ndarray:
    return np.stack([place(rast.raster(font, c), size_px) > 127 for c in chars])


def _prefilter(
    rast: GlyphRasterizer, chars: list[str], support: list[list[int]], n_fonts: int
) -> np.ndarray:
    """(K, K) median over fonts of the two-way ink coverage within PREFILTER_RADIUS_PX."""
    k = len(chars)
    cover = np.full((n_fonts, k, k), np.nan, dtype=np.float32)
    for font in range(n_fonts):
        idx = [i for i in range(k) if font in support[i]]
        if len(idx) < 2:
            continue
        masks = _masks(rast, font, [chars[i] for i in idx], 32)
        near = np.stack([distance_transform_edt(~m) <= PREFILTER_RADIUS_PX for m in masks])
        m, n = (
            masks.reshape(len(idx), -1).astype(np.float32),
            near.reshape(len(idx), -1).astype(np.float32),
        )
        # share of row's ink near column's ink
        directed = (m @ n.T) / np.maximum(m.sum(1, keepdims=True), 1)
        cover[font][np.ix_(idx, idx)] = np.minimum(directed, directed.T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pairs: no font draws both
        return np.nan_to_num(np.nanmedian(cover, axis=0), nan=0.0)


class _Distances:
    """Memoized 64-px masks and distance maps for the exact duplicate test."""

    def __init__(self, rast: GlyphRasterizer) -> None:
        self.rast, self.memo = rast, {}

    def get(self, font: int, char: str) -> tuple[np.ndarray, np.ndarray]:
        if (font, char) not in self.memo:
            mask = place(self.rast.raster(font, char), 64) > 127
            self.memo[font, char] = mask, distance_transform_edt(~mask) / 2.0  # in 32-px pixels
        return self.memo[font, char]

    def distance(self, font: int, a: str, b: str) -> float:
        (ma, da), (mb, db) = self.get(font, a), self.get(font, b)
        if not ma.any() or not mb.any():
            return float("inf")
        return float(max(np.percentile(db[ma], 99), np.percentile(da[mb], 99)))


def _deduplicate(
    rast: GlyphRasterizer,
    chars: list[str],
    support: list[list[int]],
    n_fonts: int,
    first_new: int = 0,
) -> list[int]:
    """Indices of the characters kept, earliest first; ``chars[:first_new]`` are kept already."""
    similar = _prefilter(rast, chars, support, n_fonts) >= PREFILTER_COVERAGE
    dist = _Distances(rast)
    kept: list[int] = list(range(first_new))
    for j in range(first_new, len(chars)):
        duplicate = False
        for i in (i for i in kept if similar[i, j]):
            common = sorted(set(support[i]) & set(support[j]))
            d = [dist.distance(f, chars[i], chars[j]) for f in common]
            if d and np.median(d) <= DUPLICATE_DISTANCE_PX:
                duplicate = True
                break
        if not duplicate:
            kept.append(j)
    return kept


@functools.lru_cache(maxsize=2)
def _faces(files: tuple[str, ...]) -> tuple[FontFace, ...]:
    return tuple(usable_faces([Path(f) for f in files]))


def build_inventory(num_tiers: int, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fonts, their test flags and the class characters of the first ``num_tiers`` tiers.

    ``previous``, the inventory of the first ``num_tiers - 1`` tiers, saves redoing them: the
    greedy deduplication in tier order makes each inventory a prefix of the next.
    """
    faces = _faces(tuple(str(p) for p in discover_font_files()))
    test = [i % TEST_FONT_EVERY == 1 for i in range(len(faces))]
    rast = GlyphRasterizer([f.path for f in faces])
    chars, tiers, support = [], [], []
    if previous is not None:
        chars, tiers, support = (
            list(previous["chars"]),
            list(previous["tiers"]),
            [list(s) for s in previous["support"]],
        )
    first_new = len(chars)
    for tier in range(num_tiers - 1 if previous is not None else 0, num_tiers):
        for c in GLYPH_TIERS[tier][1]:
            fonts = [i for i, f in enumerate(faces) if ord(c) in f.codepoints and rast.draws(i, c)]
            if (
                sum(test[i] for i in fonts) >= MIN_TEST_FONTS
                and sum(not test[i] for i in fonts) >= MIN_TRAIN_FONTS
            ):
                chars.append(c)
                tiers.append(tier)
                support.append(fonts)
    kept = _deduplicate(rast, chars, support, len(faces), first_new)
    return {
        "fonts": [f.name for f in faces],
        "font_paths": [f.path for f in faces],
        "test_fonts": test,
        "chars": [chars[i] for i in kept],
        "tiers": [tiers[i] for i in kept],
        "support": [support[i] for i in kept],
    }


def glyph_inventory(num_tiers: int) -> dict[str, Any]:
    """``build_inventory`` cached by the font files, the tiers and the rules' version."""
    import fontTools
    import PIL

    files = []
    for p in discover_font_files():
        st = p.stat()
        files.append([str(p), st.st_size, st.st_mtime_ns])
    params = {
        "version": INVENTORY_VERSION,
        "tiers": [t for _, t in GLYPH_TIERS[:num_tiers]],
        "files": files,
        "pillow": PIL.__version__,
        "fonttools": fontTools.version,
    }
    previous = (lambda: glyph_inventory(num_tiers - 1)) if num_tiers > 1 else (lambda: None)
    return cached("glyph_inventory", params, lambda: build_inventory(num_tiers, previous()))
