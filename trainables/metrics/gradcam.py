"""Grad-CAM attention maps (Selvaraju et al. 2017) with the ``grad-cam`` package, and a PNG grid.

Models of the study return embeddings; the class scores come from the loss (cosine logits
times a scale, or a linear layer), so the caller passes ``logits_fn`` and a wrapper module
appends it. The target layer is ``model.cam_layer``. Computing (``gradcam_maps``) is kept apart
from drawing (``save_cam_grid``, grad-cam's overlay tiled with Pillow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainables.metrics._arrays import as_numpy

__all__ = ["LogitsModel", "gradcam_grid", "gradcam_maps", "save_cam_grid"]


class LogitsModel(nn.Module):
    """``logits_fn(model(x))``: an embedding model turned into a classifier for Grad-CAM."""

    def __init__(self, model: nn.Module, logits_fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.model, self.logits_fn = model, logits_fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_fn(self.model(x))


def gradcam_maps(
    model: nn.Module,
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    targets: Sequence[int],
) -> np.ndarray:
    """(B, H, W) Grad-CAM maps in [0, 1] of class ``targets[i]`` for ``images[i]``.

    The model is evaluated in eval mode and its training mode restored afterwards.
    """
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    was_training = model.training
    wrapper = LogitsModel(model, logits_fn)
    try:
        with GradCAM(model=wrapper, target_layers=[model.cam_layer]) as cam:
            maps = cam(
                input_tensor=images, targets=[ClassifierOutputTarget(int(t)) for t in targets]
            )
    finally:
        model.train(was_training)
    return np.asarray(maps, dtype=np.float32)


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) normalized image -> (H, W, 3) RGB in [0, 1] by min-max scaling."""
    img = (
        image.transpose(1, 2, 0)
        if image.shape[0] == 3
        else np.repeat(image[0][..., None], 3, axis=2)
    )
    lo, hi = float(img.min()), float(img.max())
    return ((img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)).astype(np.float32)


def save_cam_grid(
    images: Any,
    maps: np.ndarray,
    path: str | Path,
    titles: Sequence[str] | None = None,
    columns: int = 8,
    alpha: float = 0.45,
    tile_px: int = 96,
) -> Path:
    """Write a PNG grid: each image with its attention map overlaid (jet colormap, grad-cam's
    ``show_cam_on_image``), enlarged to ``tile_px`` and captioned with its title.

    Drawn with Pillow in a few milliseconds: a figure library would cost a trial about a second.
    """
    from PIL import Image, ImageDraw, ImageFont
    from pytorch_grad_cam.utils.image import show_cam_on_image

    imgs = as_numpy(images, np.float32)
    n = len(imgs)
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    caption_px = 14 if titles is not None else 0
    grid = Image.new("RGB", (cols * tile_px, rows * (tile_px + caption_px)), "white")
    draw, font = ImageDraw.Draw(grid), ImageFont.load_default()
    for i in range(n):
        overlay = show_cam_on_image(
            _displayable(imgs[i]),
            np.clip(maps[i], 0.0, 1.0),
            use_rgb=True,
            image_weight=1.0 - alpha,
        )
        tile = Image.fromarray(overlay).resize((tile_px, tile_px), Image.Resampling.NEAREST)
        x, y = (i % cols) * tile_px, (i // cols) * (tile_px + caption_px)
        grid.paste(tile, (x, y + caption_px))
        if titles is not None:
            draw.text((x + 2, y + 1), str(titles[i])[:16], fill="black", font=font)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return out


def gradcam_grid(
    model: nn.Module,
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    labels: Any,
    path: str | Path,
    class_names: Sequence[str] | None = None,
    max_images: int = 16,
) -> Path:
    """Grad-CAM of the true class for up to ``max_images`` images, saved as a PNG grid."""
    images, labels = images[:max_images], as_numpy(labels)[:max_images]
    maps = gradcam_maps(model, logits_fn, images, labels.tolist())
    titles = [class_names[int(c)] if class_names is not None else str(int(c)) for c in labels]
    return save_cam_grid(images, maps, path, titles)
