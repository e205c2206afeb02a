"""Backbones that map images to an embedding; the classifier weights live in the loss.

Every model has ``.embedding_dim`` and ``.cam_layer`` (the Grad-CAM target layer) and returns
(B, embedding_dim) features. Registered: ``small_cnn``, ``pool_cnn`` (pooling after every conv); ``resnet20``, ``resnet32``,
``resnet56`` (CIFAR ResNets, resnet_cifar.py); ``resnet18``, ``resnet50``, ``googlenet``
(torchvision, backbones.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from trainables.backbones import TORCHVISION_ARCHS, TorchvisionBackbone, load_state_file
from trainables.config import ModelConfig
from trainables.registry import Registry
from trainables.resnet_cifar import CifarResNet

__all__ = ["MODELS", "SmallCNN", "build_model"]

MODELS: Registry[Callable[[ModelConfig, int, int], nn.Module]] = Registry("model")


class SmallCNN(nn.Module):
    """Two conv blocks and a linear embedding: fast on CPU for 8x8 to 32x32 inputs."""

    def __init__(self, cfg: ModelConfig, in_channels: int, image_size: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.cam_layer = self.features[-2]  # ReLU after the last conv: the Grad-CAM target
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed = nn.Linear(128, cfg.embedding_dim)
        self.embedding_dim = cfg.embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.dropout(self.features(x).flatten(1)))


class PoolCNN(nn.Module):
    """Three conv blocks, each followed by 2x2 pooling (the last by global pooling), and a linear
    embedding: the wide convolutions run at a quarter and a sixteenth of the input's pixels, so a
    forward pass costs about a quarter of ``small_cnn``'s (built for the small-image studies on
    CPUs, where the convolutions at full resolution dominate the time)."""

    def __init__(self, cfg: ModelConfig, in_channels: int, image_size: int) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> tuple[nn.Module, ...]:
            return (
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            )

        self.features = nn.Sequential(
            *block(in_channels, 32),
            nn.MaxPool2d(2),
            *block(32, 64),
            nn.MaxPool2d(2),
            *block(64, 128),
            nn.AdaptiveAvgPool2d(1),
        )
        self.cam_layer = self.features[-2]  # ReLU after the last conv: the Grad-CAM target
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed = nn.Linear(128, cfg.embedding_dim)
        self.embedding_dim = cfg.embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.dropout(self.features(x).flatten(1)))


MODELS.register("small_cnn")(SmallCNN)
MODELS.register("pool_cnn")(PoolCNN)
for _depth in (20, 32, 56):
    MODELS.register(f"resnet{_depth}")(partial(CifarResNet, depth=_depth))
for _arch in TORCHVISION_ARCHS:
    MODELS.register(_arch)(partial(TorchvisionBackbone, arch=_arch))


def build_model(cfg: ModelConfig, in_channels: int, image_size: int) -> nn.Module:
    """The model named by ``cfg.name``. ``cfg.pretrained_path`` loads a local state_dict: into the
    torchvision network for torchvision backbones (see backbones.py), into the whole model
    (the embedding layer only if its shape fits) for the others."""
    model = MODELS.get(cfg.name)(cfg, in_channels, image_size)
    if cfg.pretrained_path and not isinstance(model, TorchvisionBackbone):
        _load_own(model, cfg)
    return model


def _load_own(model: nn.Module, cfg: ModelConfig) -> None:
    state = load_state_file(cfg.pretrained_path, cfg.name)
    own = model.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    missing = [k for k in own if k not in fitting and not k.startswith("embed.")]
    if missing:
        raise ValueError(
            f"model.pretrained_path={cfg.pretrained_path!r} does not fit {cfg.name}: {missing[0]} ..."
        )
    model.load_state_dict(fitting, strict=False)
