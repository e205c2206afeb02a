"""torchvision ImageNet backbones (ResNet-18, ResNet-50, GoogLeNet) with an embedding layer.

Built with ``weights=None``; nothing is downloaded. Pretrained weights come only from
``model.pretrained_path``: a local file holding the torchvision model's ``state_dict`` (the
classifier ``fc.*`` and GoogLeNet's auxiliary heads are ignored). The stem is adapted when
the input is not ImageNet-like, and then starts from random weights:

- ``in_channels != 3``: the first conv takes ``in_channels`` channels;
- ``image_size < SMALL_IMAGE_PX``: the first conv becomes 3x3 stride 1 and the first max-pool
  is removed (the usual CIFAR adaptation), so 32x32 inputs keep spatial detail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from trainables.config import ModelConfig

# torchvision is imported where a backbone is built, not here: importing its model zoo costs a
# trial's worker about 1.5 s, and most trials use the study's own small models.

__all__ = ["SMALL_IMAGE_PX", "TorchvisionBackbone", "load_state_file"]

SMALL_IMAGE_PX = 64  # below this side the stem keeps full resolution
IGNORED_PREFIXES = ("fc.", "aux1.", "aux2.")  # classifier and auxiliary heads of the source model


def load_state_file(path: str, what: str) -> dict[str, torch.Tensor]:
    """A state_dict from a local file; one clear error line if it is missing or unreadable."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"model.pretrained_path={path!r}: no such file (expected a {what} state_dict saved with torch.save)"
        )
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(
            f"model.pretrained_path={path!r} is not a readable state_dict ({type(err).__name__})"
        ) from None
    if not isinstance(state, dict):
        raise ValueError(
            f"model.pretrained_path={path!r} holds a {type(state).__name__}, expected a {what} state_dict"
        )
    return state


def _zoo():
    from torchvision import models

    return models


def _bottleneck() -> type:
    from torchvision.models.resnet import Bottleneck

    return Bottleneck


def _resnet_parts(net: nn.Module) -> tuple[int, nn.Module]:
    net.fc = nn.Identity()
    return 512 * (4 if isinstance(net.layer4[-1], _bottleneck()) else 1), net.layer4[-1]


def _googlenet_parts(net: nn.Module) -> tuple[int, nn.Module]:
    net.fc = nn.Identity()
    return 1024, net.inception5b


def _adapt_resnet_stem(net: nn.Module, in_channels: int, small: bool) -> None:
    if small:
        net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)


def _adapt_googlenet_stem(net: nn.Module, in_channels: int, small: bool) -> None:
    from torchvision.models.googlenet import BasicConv2d

    if small:
        net.conv1 = BasicConv2d(in_channels, 64, kernel_size=3, stride=1, padding=1)
        net.maxpool1 = nn.Identity()
    elif in_channels != 3:
        net.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)


# name -> (constructor, parts, stem adapter)
TORCHVISION_ARCHS: dict[str, tuple[Callable[[], nn.Module], Callable, Callable]] = {
    "resnet18": (lambda: _zoo().resnet18(weights=None), _resnet_parts, _adapt_resnet_stem),
    "resnet50": (lambda: _zoo().resnet50(weights=None), _resnet_parts, _adapt_resnet_stem),
    "googlenet": (
        lambda: _zoo().googlenet(
            weights=None, aux_logits=False, init_weights=True, transform_input=False
        ),
        _googlenet_parts,
        _adapt_googlenet_stem,
    ),
}


class TorchvisionBackbone(nn.Module):
    """A torchvision network without its classifier, then dropout and a linear embedding."""

    def __init__(self, cfg: ModelConfig, in_channels: int, image_size: int, arch: str) -> None:
        super().__init__()
        build, parts, adapt_stem = TORCHVISION_ARCHS[arch]
        net = build()
        if cfg.pretrained_path:
            state = {
                k: v
                for k, v in load_state_file(cfg.pretrained_path, f"torchvision {arch}").items()
                if not k.startswith(IGNORED_PREFIXES)
            }
            missing, unexpected = net.load_state_dict(state, strict=False)
            wrong = [k for k in missing if not k.startswith(IGNORED_PREFIXES)] + list(unexpected)
            if wrong:
                raise ValueError(
                    f"model.pretrained_path={cfg.pretrained_path!r} does not fit torchvision {arch}: {wrong[0]} ..."
                )
        adapt_stem(net, in_channels, image_size < SMALL_IMAGE_PX)
        width, self.cam_layer = parts(net)
        self.backbone = net
        self.dropout = nn.Dropout(cfg.dropout)
        self.embed = nn.Linear(width, cfg.embedding_dim)
        self.embedding_dim = cfg.embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.dropout(self.backbone(x)))
