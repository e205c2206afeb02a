"""Grad-CAM attention maps (Selvaraju et al. 2017) with the ``grad-cam`` package, and a PNG grid.

Models of the study return embeddings; the class scores come from the loss (cosine logits
times a scale, or a linear layer), so the caller passes ``logits_fn`` and a wrapper module
appends it. The target layer is ``model.cam_layer``. Computing (``gradcam_maps``) is kept apart
from drawing (``save_cam_grid``, matplotlib's Agg backend).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

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
    model: nn.Module, logits_fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, targets: Sequence[int]
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
            maps = cam(input_tensor=images, targets=[ClassifierOutputTarget(int(t)) for t in targets])
    finally:
        model.train(was_training)
    return np.asarray(maps, dtype=np.float32)


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) normalized image -> (H, W) or (H, W, 3) in [0, 1] by min-max scaling."""
    img = image.transpose(1, 2, 0) if image.shape[0] == 3 else image[0]
    lo, hi = float(img.min()), float(img.max())
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def save_cam_grid(
    images: Any, maps: np.ndarray, path: str | Path, titles: Sequence[str] | None = None, columns: int = 8, alpha: float = 0.45
) -> Path:
    """Write a PNG grid: each image with its attention map overlaid (jet colormap)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    imgs = as_numpy(images, np.float32)
    n = len(imgs)
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        ax = axes.flat[i]
        ax.imshow(_displayable(imgs[i]), cmap="gray" if imgs[i].shape[0] == 1 else None)
        ax.imshow(maps[i], cmap="jet", alpha=alpha, vmin=0.0, vmax=1.0)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=7)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def gradcam_grid(
    model: nn.Module, logits_fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, labels: Any,
    path: str | Path, class_names: Sequence[str] | None = None, max_images: int = 16,
) -> Path:
    """Grad-CAM of the true class for up to ``max_images`` images, saved as a PNG grid."""
    images, labels = images[:max_images], as_numpy(labels)[:max_images]
    maps = gradcam_maps(model, logits_fn, images, labels.tolist())
    titles = [class_names[int(c)] if class_names is not None else str(int(c)) for c in labels]
    return save_cam_grid(images, maps, path, titles)
