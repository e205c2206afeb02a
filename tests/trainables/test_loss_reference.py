"""Each loss against its paper's definition, with the logits rebuilt by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from trainables.config import LossConfig
from trainables.losses import Objective, build_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, D, B = 4, 5, 6
S = 7.0


def unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True)


@pytest.fixture
def batch():
    torch.manual_seed(0)
    return torch.randn(B, D, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0, 2])


def make(name: str, **params):
    torch.manual_seed(1)
    return build_loss(name, num_classes=C, embedding_dim=D, **params).double()


def cosines(x, w):
    return unit(x) @ unit(w).T


def test_ce(batch):
    x, y = batch
    loss = make("ce")
    ref = F.cross_entropy(x @ loss.weight.T + loss.bias, y)
    torch.testing.assert_close(loss(x, y, scale=S), ref)


def test_bce_is_one_vs_rest_summed_over_classes(batch):
    x, y = batch
    loss = make("bce")
    p = torch.sigmoid(x @ loss.weight.T + loss.bias)
    t = F.one_hot(y, C).double()
    ref = -(t * p.log() + (1 - t) * (1 - p).log()).sum(1).mean()
    torch.testing.assert_close(loss(x, y), ref)


def test_mse_on_softmax_averages_over_classes(batch):
    x, y = batch
    loss = make("mse")
    p = torch.softmax(x @ loss.weight.T + loss.bias, dim=1)
    # (1/C) sum_k, then batch mean
    ref = sum(((p[i] - F.one_hot(y[i], C)) ** 2).sum() / C for i in range(B)) / B
    torch.testing.assert_close(loss(x, y), ref)


def test_complement_entropy_hand_value():
    loss = make("complement")
    # uniform logits, C = 3: q = (1/2, 1/2) -> H_c = -(1/2) * 2 * (1/2) ln(1/2) = ln(2) / 2
    value = loss.from_logits(torch.zeros(1, 3, dtype=torch.float64), torch.tensor([0]))
    assert value.item() == pytest.approx(-math.log(2) / 2, abs=1e-6)
    # logits (ln 1, ln 2, ln 3, ln 4) with y = 3: q = (1/6, 2/6, 3/6)
    logits = torch.tensor([[0.0, math.log(2), math.log(3), math.log(4)]], dtype=torch.float64)
    h = -sum(q * math.log(q) for q in (1 / 6, 2 / 6, 3 / 6)) / 3
    assert loss.from_logits(logits, torch.tensor([3])).item() == pytest.approx(-h, abs=1e-6)


def test_complement_standalone_uses_its_own_head(batch):
    x, y = batch
    loss = make("complement")
    torch.testing.assert_close(
        loss(x, y, scale=S), loss.from_logits(x @ loss.weight.T + loss.bias, y)
    )


def test_normface(batch):
    x, y = batch
    loss = make("normface")
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(S * cosines(x, loss.weight), y))
    torch.testing.assert_close(loss.logits(x), cosines(x, loss.weight))


def test_cosface_subtracts_margin_cos_from_the_target(batch):
    x, y = batch
    loss = make("cosface", margin_cos=0.2)
    cos = cosines(x, loss.weight)
    cos[torch.arange(B), y] -= 0.2
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(S * cos, y))


def arc_target(cos: torch.Tensor, y: torch.Tensor, m: float, rows: torch.Tensor) -> torch.Tensor:
    out = cos.clone()
    for i in rows.tolist():
        theta = math.acos(cos[i, y[i]].item())
        c = cos[i, y[i]].item()
        out[i, y[i]] = math.cos(theta + m) if theta + m <= math.pi else c - m * math.sin(m)
    return out


def test_arcface_adds_margin_rad_to_the_target_angle(batch):
    x, y = batch
    loss = make("arcface", margin_rad=0.3)
    logits = arc_target(cosines(x, loss.weight), y, 0.3, torch.arange(B))
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(S * logits, y))


def test_arcface_falls_back_when_theta_plus_m_exceeds_pi():
    loss = make("arcface", margin_rad=0.5)
    y = torch.tensor([1])
    w = unit(loss.weight.detach())
    x = -w[1:2] + 0.05 * w[0:1]  # nearly opposite its class weight: theta ~ pi
    cos = cosines(x, loss.weight.detach())
    assert math.acos(cos[0, 1].item()) + 0.5 > math.pi
    logits = cos.clone()
    logits[0, 1] = cos[0, 1] - 0.5 * math.sin(0.5)
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(S * logits, y))


def test_camri_margin_only_on_the_important_class(batch):
    x, y = batch
    loss = make("camri", important_class=2, margin_rad=0.4)
    logits = arc_target(cosines(x, loss.weight), y, 0.4, (y == 2).nonzero().flatten())
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(S * logits, y))


def adacos_objective(**params) -> Objective:
    torch.manual_seed(1)
    return Objective(LossConfig(output="adacos", params=params), C, D, head=(), tail=()).double()


def test_adacos_fixed_ignores_the_scheduled_scale(batch):
    x, y = batch
    objective = adacos_objective()
    s = math.sqrt(2) * math.log(C - 1)
    ref = F.cross_entropy(s * cosines(x, objective.output.weight), y)
    torch.testing.assert_close(objective(x, y, S)["adacos"], ref)
    torch.testing.assert_close(objective(x, y, 100.0)["adacos"], ref)
    assert objective.scale(100.0) == pytest.approx(s)
    torch.testing.assert_close(objective.output(x, y), ref)  # called alone: the fixed scale


def test_adacos_dynamic_rule_by_hand(batch):
    x, y = batch
    objective = adacos_objective(dynamic=True).train()
    weight = objective.output.weight
    cos = cosines(x, weight).detach()
    s0 = math.sqrt(2) * math.log(C - 1)
    b_avg = (
        sum(math.exp(s0 * cos[i, k].item()) for i in range(B) for k in range(C) if k != y[i]) / B
    )
    thetas = sorted(math.acos(cos[i, y[i]].item()) for i in range(B))
    theta_med = thetas[(B - 1) // 2]  # torch.median: the lower of the two middle values
    s1 = math.log(b_avg) / math.cos(min(math.pi / 4, theta_med))
    value = objective(x, y, S)["adacos"]
    assert objective.scale(S) == pytest.approx(s1, rel=1e-6)
    torch.testing.assert_close(value, F.cross_entropy(s1 * cosines(x, weight), y))
    objective.eval()
    objective(x, y, S)
    assert objective.scale(S) == pytest.approx(s1, rel=1e-6)  # no update outside training
    assert "adacos.value" in objective.state_dict()


def test_softtriple_by_loops(batch):
    x, y = batch
    k, gamma, tau, delta = 3, 0.1, 0.2, 0.01
    loss = make("softtriple", centers_per_class=k, gamma=gamma, tau=tau, delta=delta)
    w = unit(loss.weight.detach())
    xs = unit(x)
    relaxed = torch.zeros(B, C, dtype=torch.float64)
    for i in range(B):
        for c in range(C):
            sims = [float(xs[i] @ w[c * k + j]) for j in range(k)]
            z = sum(math.exp(s / gamma) for s in sims)
            relaxed[i, c] = sum(math.exp(s / gamma) / z * s for s in sims)
    torch.testing.assert_close(loss.logits(x), relaxed)
    margin = delta * F.one_hot(y, C)
    reg = sum(
        math.sqrt(2 + 1e-5 - 2 * float(w[c * k + a] @ w[c * k + b]))
        for c in range(C)
        for a in range(k)
        for b in range(a + 1, k)
    ) / (C * k * (k - 1))
    ref = F.cross_entropy(S * (relaxed - margin), y) + tau * reg
    torch.testing.assert_close(loss(x, y, scale=S), ref)


@pytest.mark.parametrize(
    "labels", [[0, 1, 2, 3, 0, 2], [0, 1, 1, 0, 0, 2]], ids=["all-present", "class-3-absent"]
)
def test_proxy_anchor_by_loops(batch, labels):
    x, y = batch[0], torch.tensor(labels)
    alpha, delta = 32.0, 0.1
    loss = make("proxy_anchor", alpha=alpha, margin=delta)
    cos = cosines(x, loss.weight.detach())
    present = sorted(set(y.tolist()))
    pos = sum(
        math.log(
            1 + sum(math.exp(-alpha * (cos[i, p].item() - delta)) for i in range(B) if y[i] == p)
        )
        for p in present
    ) / len(present)
    neg = (
        sum(
            math.log(
                1 + sum(math.exp(alpha * (cos[i, p].item() + delta)) for i in range(B) if y[i] != p)
            )
            for p in range(C)
        )
        / C
    )
    assert loss(x, y, scale=S).item() == pytest.approx(pos + neg, rel=1e-9)


def test_proxy_nca_softmax_over_half_scaled_negative_squared_distances(batch):
    x, y = batch
    loss = make("proxy_nca")
    d2 = ((unit(x)[:, None, :] - unit(loss.weight)[None, :, :]) ** 2).sum(-1)
    torch.testing.assert_close(loss(x, y, scale=S), F.cross_entropy(-(S / 2) * d2, y))


def test_proxy_nca_by_hand():
    """x = e0 against proxies e0, e1, -e0 (squared distances 0, 2, 4; the lengths do not count):
    logits -(s/2) d^2 = 0, -s, -2s."""
    loss = build_loss("proxy_nca", num_classes=3, embedding_dim=2).double()
    with torch.no_grad():
        loss.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 0.5], [-3.0, 0.0]]))
    x = torch.tensor([[5.0, 0.0], [5.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    log_z = math.log(1 + math.exp(-S) + math.exp(-2 * S))
    assert loss(x, y, scale=S).item() == pytest.approx((log_z + (S + log_z)) / 2, rel=1e-12)


def test_proxy_nca_at_scale_s_is_normface_at_scale_s(batch):
    """For unit vectors -(s/2)||x - p||^2 = s cos - s: the scale means what it means for the
    cosine losses (the AdaCos schedules and the scale trend read it so)."""
    x, y = batch
    nca, normface = make("proxy_nca"), make("normface")
    with torch.no_grad():
        normface.weight.copy_(nca.weight)
    torch.testing.assert_close(
        nca.scaled_logits(x, S), normface.scaled_logits(x, S) - S, atol=1e-12, rtol=0
    )
    torch.testing.assert_close(nca(x, y, scale=S), normface(x, y, scale=S))


def test_center_loss_value_and_update_rule():
    loss = build_loss("center", num_classes=2, embedding_dim=1, alpha=0.5).double()
    loss.weight.copy_(torch.tensor([[0.0], [10.0]]))
    f = torch.tensor([[2.0], [4.0], [7.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 0])
    assert loss(f, y).item() == pytest.approx(0.5 * (4 + 16 + 49) / 3)
    loss.after_step(f, y)
    # delta_c0 = ((0-2) + (0-4) + (0-7)) / (1 + 3) = -3.25; c0 = 0 - 0.5 * -3.25
    assert loss.weight.flatten().tolist() == pytest.approx([1.625, 10.0])
    assert not any(p is loss.weight for p in loss.parameters())


@pytest.mark.parametrize("normalize", [True, False])
def test_pc_paper_formula_with_gamma_term(batch, normalize):
    x, y = batch
    loss = make("pc", normalize=normalize)
    f = unit(x) if normalize else x
    w = unit(loss.weight.detach()) if normalize else loss.weight.detach()
    total = 0.0
    for i in range(B):
        alpha = float(((f[i] - w[y[i]]) ** 2).sum())
        push = sum(
            float(((f[i] - w[j]) ** 2).sum() + ((w[y[i]] - w[j]) ** 2).sum())
            for j in range(C)
            if j != y[i]
        )
        total += alpha - push / (C - 1)
    assert loss(x, y).item() == pytest.approx(total / B, rel=1e-9)


def test_pc_normalized_is_bounded():
    loss = make("pc", normalize=True)
    x = 1e6 * torch.randn(B, D, dtype=torch.float64)
    value = loss(x, torch.tensor([0, 1, 2, 3, 0, 2])).item()
    assert -8.0 <= value <= 4.0
