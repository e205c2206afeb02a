"""Contract tests run over every registered loss: the declared facts and hooks, shapes,
gradients, extremes, low precision."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from trainables.config import ConfigError, LossConfig
from trainables.losses import LOSSES, Loss, Objective, build_loss, margin_of, scaled_losses

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, D = 4, 8


def weight_rows(loss: Loss, labels: torch.Tensor) -> torch.Tensor:
    """Row of ``weight`` holding the (first) class vector of each label (class-major rows)."""
    return labels * (loss.weight.shape[0] // loss.num_classes)


@pytest.mark.parametrize("name", LOSSES.names())
def test_builds_returns_scalar_and_weight_shape(name):
    torch.manual_seed(0)
    loss = build_loss(name, num_classes=C, embedding_dim=D)
    x, y = torch.randn(6, D, requires_grad=True), torch.tensor([0, 1, 2, 3, 0, 1])
    value = loss(x, y, scale=16.0)
    assert isinstance(loss, Loss) and loss.num_classes == C
    assert value.shape == () and torch.isfinite(value)
    assert loss.weight.shape[1] == D and loss.weight.shape[0] % C == 0
    assert tuple(loss.class_weights().shape) == (C, D)
    value.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    if loss.output_space:
        assert loss.logits(x).shape == (6, C)
        assert loss.scaled_logits(x, 16.0).shape == (6, C)
    else:
        with pytest.raises(TypeError, match="feature-space"):
            loss.logits(x)


@pytest.mark.parametrize("name", LOSSES.names())
def test_declared_facts_match_what_the_loss_does(name):
    """``scaled``: the scheduled scale changes what the trial trains on (AdaCos trains at its own);
    ``margin_range``: the parameter exists and a larger margin raises the loss;
    ``secondary_update``: it has a form on another term's logits."""
    cls = LOSSES.get(name)
    assert (name in scaled_losses()) == cls.scaled
    x, y = (
        torch.randn(6, D, generator=torch.Generator().manual_seed(4)),
        torch.tensor([0, 1, 2, 3, 0, 1]),
    )
    torch.manual_seed(0)
    if cls.output_space:
        objective = Objective(LossConfig(output=name), C, D, head=(0, 1), tail=(2, 3))

        def at(scale):
            return objective(x, y, scale)[name]
    else:
        loss = build_loss(name, num_classes=C, embedding_dim=D)

        def at(scale):
            return loss(x, y, scale=scale)

    assert (not torch.allclose(at(4.0), at(16.0))) == cls.scaled
    margin = margin_of(name)
    if margin is not None:
        assert 0.0 <= margin.low < margin.high

        def with_margin(value):
            torch.manual_seed(0)
            return build_loss(name, num_classes=C, embedding_dim=D, **{margin.param: value})(
                x, y, scale=8.0
            )

        assert with_margin(margin.high) > with_margin(margin.low)
    if cls.secondary_update:
        assert (
            build_loss(name, num_classes=C, embedding_dim=D).from_logits(torch.randn(6, C), y).shape
            == ()
        )


@pytest.mark.parametrize("name", LOSSES.names())
def test_gradcheck_float64(name):
    torch.manual_seed(1)
    loss = build_loss(name, num_classes=3, embedding_dim=4).double()
    y = torch.tensor([0, 1, 2, 1, 0])
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    w = (loss.weight.detach().clone() + 0.1 * torch.randn_like(loss.weight)).requires_grad_(True)

    def f(x, w):
        return functional_call(loss, {"weight": w}, (x, y), {"scale": 3.0})

    assert f(x, w).dtype == torch.float64
    assert torch.autograd.gradcheck(f, (x, w), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["cos=+1", "cos=-1"])
def test_finite_at_cosine_plus_minus_one_and_large_scale(name, sign):
    torch.manual_seed(2)
    loss = build_loss(name, num_classes=C, embedding_dim=D)
    if name == "center":
        loss.weight.copy_(torch.randn(C, D))
    y = torch.tensor([0, 1, 2, 3])
    x = (sign * loss.weight.detach()[weight_rows(loss, y)]).clone().requires_grad_(True)
    value = loss(x, y, scale=64.0)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(x.grad).all()
    if loss.weight.requires_grad:
        assert torch.isfinite(loss.weight.grad).all()


def _low_precision_check(name: str, device: str) -> None:
    torch.manual_seed(3)
    dtype = torch.bfloat16
    backbone = torch.nn.Linear(D, D).to(device)
    loss = build_loss(name, num_classes=C, embedding_dim=D).to(device)
    x, y = torch.randn(8, D, device=device), torch.tensor([0, 1, 2, 3] * 2, device=device)
    with torch.autocast(device_type=device, dtype=dtype):
        embeddings = backbone(x)
        assert embeddings.dtype == dtype
        value = loss(embeddings, y, scale=64.0)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(backbone.weight.grad).all()
    reference = loss(embeddings.detach().float(), y, scale=64.0)
    torch.testing.assert_close(value.detach(), reference.detach())


@pytest.mark.parametrize("name", LOSSES.names())
def test_bf16_autocast_on_cpu_computes_in_fp32(name):
    _low_precision_check(name, "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", LOSSES.names())
def test_bf16_autocast_on_cuda(name):
    _low_precision_check(name, "cuda")


@pytest.mark.parametrize("name", scaled_losses())
def test_scaled_losses_need_a_scale(name):
    loss = build_loss(name, num_classes=C, embedding_dim=D)
    with pytest.raises(ValueError, match="scale"):
        loss(torch.randn(2, D), torch.tensor([0, 1]))


@pytest.mark.parametrize("name", [n for n in LOSSES.names() if margin_of(n) is not None])
def test_a_negative_margin_is_refused_naming_its_key(name):
    key = margin_of(name).param
    with pytest.raises(ConfigError, match=f"{name}.{key}=-0.5 is invalid: a margin must be >= 0"):
        build_loss(name, num_classes=C, embedding_dim=D, **{key: -0.5})


def test_unknown_parameter_names_the_allowed_ones():
    with pytest.raises(ConfigError, match="margin_cos"):
        build_loss("cosface", num_classes=C, embedding_dim=D, margin_rad=0.5)


def test_parameters_from_strings_are_converted():
    loss = build_loss("adacos", num_classes=C, embedding_dim=D, dynamic="true")
    assert loss.dynamic is True
    assert build_loss(
        "softtriple", num_classes=C, embedding_dim=D, centers_per_class=2.0
    ).weight.shape == (2 * C, D)
    with pytest.raises(ConfigError, match="centers_per_class"):
        build_loss("softtriple", num_classes=C, embedding_dim=D, centers_per_class=2.5)


def test_camri_rejects_an_important_class_out_of_range():
    with pytest.raises(ValueError, match="important_class"):
        build_loss("camri", num_classes=C, embedding_dim=D, important_class=C)
