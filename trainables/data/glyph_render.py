"""Render one character of one font as a small grayscale image, clean or augmented.

A master raster is drawn once per (font, character, stroke width) at ``MASTER_FONT_PX`` and
cropped to its ink. Each image places that raster with one affine map (fit, scale, rotation,
shift) on a canvas twice the output size and halves it with a box filter (2x supersampling),
then adds Gaussian noise. The glyph's longer side spans ``FIT_FRACTION`` of the image, so
characters are compared by shape, not by their size in the font (o and O look alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["GlyphAugment", "GlyphRasterizer", "add_noise", "draw_augment", "place"]

MASTER_FONT_PX = 64  # font size of the master raster
FIT_FRACTION = 0.8  # the glyph's longer side spans this share of the image before augmentation
SCALE_RANGE = (0.8, 1.05)  # multiplies the fitted size
ROTATION_DEG = 10.0  # uniform in +-ROTATION_DEG degrees
SHIFT_PX = 1.5  # uniform in +-SHIFT_PX output pixels, per axis
# extra outline on the master raster (bolder strokes), in master pixels
STROKE_PX_CHOICES = (0, 1, 2)
NOISE_STD_MAX = 0.08  # Gaussian pixel noise, std uniform in [0, NOISE_STD_MAX] of the [0, 1] range
NOTDEF_PROBE = 0x10FFFD  # a private-use code point no font maps: draws the .notdef (tofu) glyph


@dataclass(frozen=True)
class GlyphAugment:
    """One draw of the augmentation; ``GlyphAugment()`` is the clean render."""

    scale: float = 1.0
    angle_deg: float = 0.0
    shift_x_px: float = 0.0
    shift_y_px: float = 0.0
    stroke_px: int = 0
    noise_std: float = 0.0


def draw_augment(rng: np.random.Generator) -> GlyphAugment:
    """Draw augmentation parameters from ``rng`` (always the same number of draws)."""
    u = rng.random(6)
    return GlyphAugment(
        scale=SCALE_RANGE[0] + (SCALE_RANGE[1] - SCALE_RANGE[0]) * u[0],
        angle_deg=ROTATION_DEG * (2 * u[1] - 1),
        shift_x_px=SHIFT_PX * (2 * u[2] - 1),
        shift_y_px=SHIFT_PX * (2 * u[3] - 1),
        stroke_px=STROKE_PX_CHOICES[
            min(int(u[4] * len(STROKE_PX_CHOICES)), len(STROKE_PX_CHOICES) - 1)
        ],
        noise_std=NOISE_STD_MAX * u[5],
    )


class GlyphRasterizer:
    """Master rasters of characters in a list of font files, memoized."""

    def __init__(self, font_paths: list[str]) -> None:
        self.fonts = [ImageFont.truetype(p, MASTER_FONT_PX) for p in font_paths]
        self._rasters: dict[tuple[int, str, int], Image.Image | None] = {}
        self._notdef = [self.raster(i, chr(NOTDEF_PROBE)) for i in range(len(self.fonts))]

    def raster(self, font: int, char: str, stroke_px: int = 0) -> Image.Image | None:
        """The character's ink, cropped ('L' mode), or None when it draws nothing."""
        key = (font, char, stroke_px)
        if key not in self._rasters:
            f = self.fonts[font]
            left, top, right, bottom = f.getbbox(char, stroke_width=stroke_px)
            im = None
            if right > left and bottom > top:
                canvas = Image.new("L", (right - left + 2, bottom - top + 2), 0)
                ImageDraw.Draw(canvas).text(
                    (1 - left, 1 - top),
                    char,
                    font=f,
                    fill=255,
                    stroke_width=stroke_px,
                    stroke_fill=255,
                )
                box = canvas.getbbox()
                im = canvas.crop(box) if box else None
            self._rasters[key] = im
        return self._rasters[key]

    def draws(self, font: int, char: str) -> bool:
        """True when the font draws ink for ``char`` that is not its .notdef (tofu) box."""
        im = self.raster(font, char)
        if im is None:
            return False
        notdef = self._notdef[font]
        return notdef is None or im.size != notdef.size or im.tobytes() != notdef.tobytes()


def place(raster: Image.Image, size_px: int, aug: GlyphAugment = GlyphAugment()) -> np.ndarray:
    """The raster fitted, scaled, rotated and shifted into a (size_px, size_px) uint8 image."""
    canvas = 2 * size_px
    w, h = raster.size
    s = FIT_FRACTION * canvas / max(w, h) * aug.scale
    cos, sin = math.cos(math.radians(aug.angle_deg)), math.sin(math.radians(aug.angle_deg))
    out_cx, out_cy = canvas / 2 + 2 * aug.shift_x_px, canvas / 2 + 2 * aug.shift_y_px
    a, b, d, e = cos / s, sin / s, -sin / s, cos / s  # inverse map: output -> raster coordinates
    data = (a, b, w / 2 - a * out_cx - b * out_cy, d, e, h / 2 - d * out_cx - e * out_cy)
    big = raster.transform((canvas, canvas), Image.AFFINE, data, resample=Image.BILINEAR)
    return np.asarray(big.reduce(2), dtype=np.uint8)


def add_noise(image: np.ndarray, noise_std: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise (std in units of the [0, 1] range) added and clipped back to uint8."""
    noise = rng.standard_normal(image.shape) * (255.0 * noise_std)
    return np.clip(image + noise, 0, 255).round().astype(np.uint8)
