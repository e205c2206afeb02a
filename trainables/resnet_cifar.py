"""CIFAR ResNets (He et al. 2016, "Deep Residual Learning", section 4.2) as embedding backbones.

6n + 2 layers: a 3x3 conv with 16 filters, three stages of n basic blocks with 16, 32 and 64
filters (stride 2 at the start of stages 2 and 3), global average pooling, then dropout and a
linear embedding. Shortcuts are option A: identity, and on a change of shape the input is
subsampled with stride 2 and zero-padded in channels, so shortcuts have no parameters.
ResNet-20 (n = 3) has 0.27M parameters with a 10-way output. Works for any number of input
channels and any image size of at least 8 pixels (32x32 is the design size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainables.config import ModelConfig

__all__ = ["BasicBlock", "CifarResNet"]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an option-A shortcut."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride, self.pad_channels = stride, planes - in_planes

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.pad_channels:
            half = self.pad_channels // 2
            x = F.pad(x, (0, 0, 0, 0, half, self.pad_channels - half))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) mapping images to ``cfg.embedding_dim`` features; ``cam_layer`` = last block."""

    def __init__(self, cfg: ModelConfig, in_channels: int, image_size: int, depth: int) -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"a CIFAR ResNet has depth 6n+2 (20, 32, 56, ...), not {depth}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(BasicBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed = nn.Linear(64, cfg.embedding_dim)
        self.embedding_dim = cfg.embedding_dim
        self.cam_layer = self.layer3[-1]
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled 64-d features before the embedding layer."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.dropout(self.features(x)))
