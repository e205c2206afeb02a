"""Models: output shapes, parameter counts, Grad-CAM layers, dropout, local pretrained weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from trainables.config import ModelConfig
from trainables.models import MODELS, build_model

HEAVY = ("googlenet", "resnet50")  # slow to build: one input kind each
CASES = [(n, c) for n in MODELS.names() for c in (1, 3) if not (n in HEAVY and c == 1)]


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name, channels", CASES)
def test_every_model_embeds(name: str, channels: int) -> None:
    torch.manual_seed(0)
    m = build_model(ModelConfig(name=name, embedding_dim=24), channels, 32).eval()
    with torch.no_grad():
        out = m(torch.randn(2, channels, 32, 32))
    assert out.shape == (2, 24) and torch.isfinite(out).all()
    assert m.embedding_dim == 24
    assert isinstance(m.cam_layer, nn.Module) and any(m.cam_layer is mod for mod in m.modules())


@pytest.mark.parametrize(
    "name, params", [("resnet20", 269_722), ("resnet32", 464_154), ("resnet56", 853_018)]
)
def test_cifar_resnet_parameter_counts(name: str, params: int) -> None:
    # He et al. 2016: 0.27M, 0.46M, 0.85M with a 10-way output (here a 10-d embedding)
    assert n_params(build_model(ModelConfig(name=name, embedding_dim=10), 3, 32)) == params


def test_option_a_shortcut_has_no_parameters() -> None:
    m = build_model(ModelConfig(name="resnet20", embedding_dim=10), 3, 32)
    block = m.layer2[0]
    assert (
        sum(p.numel() for n, p in block.named_parameters() if "conv" not in n and "bn" not in n)
        == 0
    )
    x = torch.randn(1, 16, 32, 32)
    assert block.shortcut(x).shape == (1, 32, 16, 16)
    assert (
        torch.equal(block.shortcut(x)[:, 8:24], x[:, :, ::2, ::2])
        and block.shortcut(x)[:, :8].abs().sum() == 0
    )


def test_torchvision_backbones_on_imagenet_sizes() -> None:
    m = build_model(ModelConfig(name="resnet18", embedding_dim=16), 3, 96).eval()
    assert m.backbone.conv1.kernel_size == (7, 7)  # stem kept for larger inputs
    assert m(torch.randn(1, 3, 96, 96)).shape == (1, 16)
    small = build_model(ModelConfig(name="resnet18", embedding_dim=16), 3, 32)
    assert small.backbone.conv1.kernel_size == (3, 3) and isinstance(
        small.backbone.maxpool, nn.Identity
    )


def test_dropout_before_embedding() -> None:
    m = build_model(ModelConfig(name="resnet20", embedding_dim=8, dropout=0.5), 1, 32)
    assert isinstance(m.dropout, nn.Dropout) and m.dropout.p == 0.5


def test_pretrained_torchvision_weights_from_a_local_file(tmp_path: Path) -> None:
    from torchvision.models import resnet18

    source = resnet18(weights=None)
    path = tmp_path / "r18.pt"
    torch.save(source.state_dict(), path)
    m = build_model(ModelConfig(name="resnet18", embedding_dim=8, pretrained_path=str(path)), 3, 96)
    assert torch.equal(m.backbone.layer3[0].conv1.weight, source.layer3[0].conv1.weight)


def test_pretrained_own_model_weights(tmp_path: Path) -> None:
    source = build_model(ModelConfig(name="resnet20", embedding_dim=8), 3, 32)
    path = tmp_path / "r20.pt"
    torch.save(source.state_dict(), path)
    m = build_model(
        ModelConfig(name="resnet20", embedding_dim=16, pretrained_path=str(path)), 3, 32
    )
    assert torch.equal(m.layer1[0].conv1.weight, source.layer1[0].conv1.weight)


@pytest.mark.parametrize("name", ["resnet18", "resnet20"])
def test_missing_pretrained_file_is_one_line(name: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file") as err:
        build_model(
            ModelConfig(name=name, embedding_dim=8, pretrained_path=str(tmp_path / "nope.pt")),
            3,
            32,
        )
    assert "\n" not in str(err.value)


def test_unknown_model_lists_choices() -> None:
    with pytest.raises(KeyError, match="resnet20"):
        build_model(ModelConfig(name="vgg", embedding_dim=8), 3, 32)
