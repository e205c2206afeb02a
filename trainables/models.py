"""Backbones that map images to an embedding; the classifier weights live in the loss."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from trainables.config import ModelConfig
from trainables.registry import Registry

MODELS: Registry[Callable[[ModelConfig, int, int], nn.Module]] = Registry("model")


class SmallCNN(nn.Module):
    """Two conv blocks and a linear embedding: fast on CPU for 8x8 to 32x32 inputs."""

    def __init__(self, cfg: ModelConfig, in_channels: int, image_size: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.cam_layer = self.features[-3]  # last conv layer, the Grad-CAM target
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed = nn.Linear(128, cfg.embedding_dim)
        self.embedding_dim = cfg.embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.dropout(self.features(x).flatten(1)))


MODELS.register("small_cnn")(SmallCNN)


def build_model(cfg: ModelConfig, in_channels: int, image_size: int) -> nn.Module:
    return MODELS.get(cfg.name)(cfg, in_channels, image_size)
