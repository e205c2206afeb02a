"""The Objective: term weighting, class subsets, second update, rule updates, scales, parameters."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from trainables.config import LossConfig, TermConfig
from trainables.losses import Objective, adacos_rule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, D = 4, 6
HEAD, TAIL = (0, 1), (2, 3)
LABELS = torch.tensor([0, 1, 2, 3, 0, 2, 1, 3])


def objective(output="ce", terms=None, output_classes="all", dynamic=False, **params):
    torch.manual_seed(0)
    cfg = LossConfig(output=output, output_classes=output_classes, params=params, terms=terms or {})
    return Objective(cfg, C, D, HEAD, TAIL, dynamic=dynamic)


def embeddings(seed=1):
    torch.manual_seed(seed)
    return torch.randn(len(LABELS), D, requires_grad=True)


def neg_complement_entropy(logits, labels):
    p = logits.softmax(1)
    h = torch.zeros(())
    for i, y in enumerate(labels.tolist()):
        q = torch.cat([p[i, :y], p[i, y + 1 :]]) / (1 - p[i, y])
        h = h - (q * q.log()).sum() / (logits.shape[1] - 1)
    return -h / len(labels)


def test_total_is_output_plus_weighted_terms():
    obj = objective(
        terms={"center": TermConfig(weight=0.3), "pc": TermConfig(weight=0.1, classes="head")}
    )
    x = embeddings()
    parts = obj(x, LABELS, scale=10.0)
    assert set(parts) == {"ce", "center", "pc", "total"}
    torch.testing.assert_close(parts["ce"], obj.output(x, LABELS))
    torch.testing.assert_close(
        parts["total"], parts["ce"] + 0.3 * parts["center"] + 0.1 * parts["pc"]
    )
    head = LABELS < 2
    torch.testing.assert_close(parts["pc"], obj.terms["pc"](x[head], LABELS[head]))


def test_term_on_head_gets_no_gradient_from_tail_samples():
    obj = objective(terms={"pc": TermConfig(weight=1.0, classes="head")})
    x = embeddings()
    obj(x, LABELS, scale=10.0)["pc"].backward()
    tail = torch.isin(LABELS, torch.tensor(TAIL))
    assert (x.grad[tail] == 0).all()
    assert (x.grad[~tail].abs().sum(1) > 0).all()


def test_output_term_on_a_subset():
    obj = objective(output="normface", output_classes="tail")
    x = embeddings()
    tail = LABELS >= 2
    torch.testing.assert_close(
        obj(x, LABELS, scale=8.0)["normface"], obj.output(x[tail], LABELS[tail], scale=8.0)
    )


def test_empty_subset_is_a_zero_with_a_graph():
    obj = objective(terms={"pc": TermConfig(weight=1.0, classes="tail")})
    x = embeddings()
    head_only = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    parts = obj(x, head_only, scale=10.0)
    assert parts["pc"].item() == 0.0 and parts["pc"].requires_grad
    parts["total"].backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("output, scale", [("ce", 1.0), ("normface", 5.0)])
def test_complement_is_a_second_update_on_the_output_logits(output, scale):
    obj = objective(output=output, terms={"complement": TermConfig(weight=0.5, classes="tail")})
    assert obj.has_secondary
    x = embeddings()
    parts = obj(x, LABELS, scale=scale)
    torch.testing.assert_close(parts["total"], parts[output])  # not in the primary update
    assert not parts["complement"].requires_grad  # logged only
    tail = LABELS >= 2
    logits = obj.output.logits(x)[tail] * (scale if output == "normface" else 1.0)
    expected = 0.5 * neg_complement_entropy(logits, LABELS[tail])
    secondary = obj.secondary(x, LABELS, scale)
    torch.testing.assert_close(secondary, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(parts["complement"], expected / 0.5, atol=1e-5, rtol=1e-5)
    secondary.backward()
    assert obj.output.weight.grad is not None and obj.terms["complement"].weight.grad is None
    class_weights, other = obj.parameter_groups()
    assert all(p is not obj.terms["complement"].weight for p in class_weights + other)


def test_no_secondary_without_complement():
    obj = objective(terms={"center": TermConfig(weight=0.1)})
    assert not obj.has_secondary
    assert obj.secondary(embeddings(), LABELS, 1.0) is None


def test_after_step_updates_centers_of_their_subset_only():
    obj = objective(terms={"center": TermConfig(weight=0.1, classes="head", params={"alpha": 0.5})})
    x = embeddings().detach()
    obj.after_step(x, LABELS)
    centers = obj.terms["center"].weight
    for c in HEAD:
        members = x[LABELS == c]
        # from zero: c - alpha * (n c - sum f) / (1 + n)
        expected = 0.5 * members.sum(0) / (1 + len(members))
        torch.testing.assert_close(centers[c], expected)
    assert (centers[list(TAIL)] == 0).all()


def test_dynamic_scale_for_a_cosine_loss():
    obj = objective(output="cosface", dynamic=True).train()
    s0 = math.sqrt(2) * math.log(C - 1)
    assert obj.scale(30.0) == pytest.approx(s0)
    x = embeddings()
    expected = float(adacos_rule(obj.output.cosine(x), LABELS, s0))
    parts = obj(x, LABELS, scale=30.0)
    assert obj.scale(30.0) == pytest.approx(expected, rel=1e-6) and expected != pytest.approx(s0)
    torch.testing.assert_close(parts["cosface"], obj.output(x, LABELS, scale=expected))
    assert "adacos.value" in obj.state_dict()
    obj.eval()
    obj(embeddings(seed=5), LABELS, scale=30.0)
    assert obj.scale(30.0) == pytest.approx(expected, rel=1e-6)


def test_adacos_uses_its_own_scale_and_dynamic_switches_it_on():
    fixed = objective(output="adacos").train()
    fixed(embeddings(), LABELS, scale=30.0)
    assert fixed.scale(30.0) == pytest.approx(math.sqrt(2) * math.log(C - 1))
    by_loss_param = Objective(
        LossConfig(output="adacos", params={"dynamic": "true"}), C, D, HEAD, TAIL
    )
    # the schedule, or the loss's own
    for dynamic in (objective(output="adacos", dynamic=True), by_loss_param):
        s0 = dynamic.scale(30.0)
        x = embeddings()
        expected = float(adacos_rule(dynamic.output.cosine(x), LABELS, s0))
        dynamic.train()(x, LABELS, scale=30.0)
        assert dynamic.scale(30.0) == pytest.approx(expected, rel=1e-6)
        assert expected != pytest.approx(math.sqrt(2) * math.log(C - 1))


def test_scale_free_output_passes_the_scale_through():
    assert objective(output="ce", dynamic=True).scale(12.0) == 12.0
    assert objective(output="proxy_anchor", dynamic=True).scale(12.0) == 12.0


def test_parameter_groups_and_class_weights():
    """A linear head's weight is an ordinary layer weight (with its bias); PC's centres and a
    cosine head's class weights are class vectors; Center's centres are a buffer (in neither)."""
    obj = objective(terms={"center": TermConfig(weight=0.1), "pc": TermConfig(weight=0.1)})
    class_weights, other = obj.parameter_groups()
    assert [id(p) for p in class_weights] == [id(obj.terms["pc"].weight)]
    assert [id(p) for p in other] == [id(obj.output.weight), id(obj.output.bias)]
    assert obj.class_weights() is obj.output.weight
    torch.testing.assert_close(obj.logits(embeddings()), obj.output.logits(embeddings()))
    cosine = objective(output="normface", terms={"pc": TermConfig(weight=0.1)})
    class_weights, other = cosine.parameter_groups()
    assert [id(p) for p in class_weights] == [
        id(cosine.output.weight),
        id(cosine.terms["pc"].weight),
    ]
    assert other == []


def test_feature_space_output_is_rejected():
    with pytest.raises(ValueError, match="feature-space"):
        objective(output="center")


def test_objective_trains_the_total_and_keeps_shapes():
    obj = objective(
        output="arcface", terms={"pc": TermConfig(weight=0.1, classes="head")}, margin_rad=0.3
    )
    x = embeddings()
    parts = obj(x, LABELS, scale=16.0)
    parts["total"].backward()
    assert all(v.shape == () for v in parts.values())
    assert obj.output.weight.grad is not None and obj.terms["pc"].weight.grad is not None
    assert F.cross_entropy(obj.logits(x), LABELS).isfinite()
