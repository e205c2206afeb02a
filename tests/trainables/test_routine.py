"""The training routine: it learns, it is deterministic on the CPU, it resumes exactly, and its
phases and scale schedule follow the config."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from trainables.config import TrialConfig
from trainables.routine import TrialDiverged, train

DIGITS = {
    "data.name": "digits",
    "data.augment": False,
    "model.embedding_dim": 32,
    "train.batch_size": 64,
    "train.threads": 1,
}


def test_ce_learns_digits_above_90_percent():
    history = []
    final = train(
        TrialConfig.from_flat({**DIGITS, "train.epochs": 4, "optim.lr": 0.05}), history.append
    )
    assert final["test_accuracy"] > 0.9
    assert [m["epoch"] for m in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] < history[0]["train_loss"]


def test_cosine_head_learns_digits():
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "loss.output": "normface",
            "scale.start": 16.0,
            "train.epochs": 4,
            "optim.name": "adam",
            "optim.lr": 0.003,
        }
    )
    assert train(cfg, lambda m: None)["test_accuracy"] > 0.9


def test_same_seed_same_history_on_cpu():
    cfg = TrialConfig.from_flat({**DIGITS, "data.augment": True, "train.epochs": 2})
    first, second = [], []
    train(cfg, first.append)
    train(cfg, second.append)
    drop = {"epoch_time_s"}
    assert [{k: v for k, v in m.items() if k not in drop} for m in first] == [
        {k: v for k, v in m.items() if k not in drop} for m in second
    ]


def test_resuming_from_a_state_continues_exactly():
    """Also with dropout: its masks come from torch's global RNG, which the state restores."""
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "data.augment": True,
            "model.dropout": 0.3,
            "train.epochs": 3,
            "loss.terms.center.weight": 0.01,
            "loss.terms.complement.weight": 1.0,
        }
    )
    straight, states = [], []

    def keep(metrics, state=None):
        straight.append(metrics)
        states.append(copy.deepcopy(state))  # what torch.save of a checkpoint captures

    train(cfg, keep, checkpoint=True)
    resumed = []
    train(cfg, lambda m, state=None: resumed.append(m), resume=states[0], checkpoint=True)
    assert [m["epoch"] for m in resumed] == [2, 3]
    for a, b in zip(straight[1:], resumed):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)
        assert a["val_accuracy"] == b["val_accuracy"]
    # a checkpoint written before the global RNGs were saved still resumes
    old = {k: v for k, v in states[0].items() if k not in ("cpu_rng", "cuda_rng")}
    assert len(old) == len(states[0]) - 2
    older = []
    train(cfg.replace(train__epochs=2), lambda m: older.append(m), resume=old)
    assert [m["epoch"] for m in older] == [2] and math.isfinite(older[0]["train_loss"])


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
        ),
    ],
)
def test_a_state_restores_the_dropout_masks_to_come(device):
    from trainables.state import TrialState

    trial = TrialState(
        TrialConfig.from_flat({**DIGITS, "model.dropout": 0.3, "train.device": device})
    )
    saved = copy.deepcopy(trial.state_dict())
    masks = torch.nn.functional.dropout(torch.ones(64, device=trial.device), 0.3)
    trial.load_state_dict(saved)
    again = torch.nn.functional.dropout(torch.ones(64, device=trial.device), 0.3)
    assert torch.equal(masks, again)


def test_phases_and_the_scale_schedule_in_additional_training():
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "loss.output": "normface",
            "train.pretrain_epochs": 1,
            "train.epochs": 2,
            "train.additional_epochs": 2,
            "scale.schedule": "linear",
            "scale.start": 20.0,
            "scale.end": 5.0,
            "optim.name": "adam",
            "optim.lr": 0.003,
        }
    )
    history = []
    train(cfg, history.append)
    assert [m["phase_index"] for m in history] == [0.0, 1.0, 1.0, 2.0, 2.0]
    assert math.isnan(history[0]["scale"])  # CE pre-training has no scale
    assert history[1]["scale"] == history[2]["scale"] == 20.0  # main phase holds the start scale
    # then it decays, to the end value on the last batch (the scale an epoch reports)
    assert history[4]["scale"] == pytest.approx(5.0) and 5.0 < history[3]["scale"] < 20.0


def test_divergence_is_a_named_failure():
    with pytest.raises(TrialDiverged, match="became nan"):
        train(
            TrialConfig.from_flat({**DIGITS, "optim.lr": 1e30, "train.epochs": 2}), lambda m: None
        )


def test_final_epoch_reports_the_full_metric_set():
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "loss.output": "camri",
            "loss.params.important_class": 3,
            "scale.start": 16.0,
            "train.epochs": 1,
        }
    )
    final = train(cfg, lambda m: None)
    for key in (
        "test_balanced_accuracy",
        "test_important_class_recall",
        "val_important_class_recall",
        "test_silhouette",
        "test_calinski_harabasz",
        "proxy_cos_mean",
        "proxy_cos_var",
        *(f"test_class_{k}_recall" for k in range(10)),
    ):
        assert key in final and math.isfinite(final[key]), key
    assert torch.get_num_threads() == 1


def test_complement_entropy_takes_two_optimizer_steps_per_batch():
    from trainables.phases import phases_of
    from trainables.routine import train_epoch
    from trainables.state import TrialState

    cfg = TrialConfig.from_flat({**DIGITS, "train.epochs": 1, "loss.terms.complement.weight": 1.0})
    trial = TrialState(cfg)
    counts = {"primary": 0, "secondary": 0}
    for name, optimizer in (("primary", trial.optimizer), ("secondary", trial.secondary_optimizer)):
        real_step = optimizer.step

        def counted(*args, _name=name, _step=real_step, **kwargs):
            counts[_name] += 1
            return _step(*args, **kwargs)

        optimizer.step = counted
    metrics = train_epoch(trial, phases_of(cfg)[0], 0)
    batches = math.ceil(len(trial.data.train) / cfg.train.batch_size)
    assert counts == {"primary": batches, "secondary": batches}
    assert "train_loss_secondary" in metrics
    first = next(iter(trial.optimizer.state.values()))["momentum_buffer"]
    second = next(iter(trial.secondary_optimizer.state.values()))["momentum_buffer"]
    # its own momentum
    assert first.data_ptr() != second.data_ptr() and not torch.equal(first, second)


def test_evaluation_folds_batchnorm_without_changing_the_embeddings():
    from trainables.evaluation import inference_model
    from trainables.state import TrialState

    trial = TrialState(TrialConfig.from_flat({**DIGITS, "train.epochs": 1}))
    train_batch = next(
        trial.data.train.batches(64, shuffle=True, generator=torch.Generator().manual_seed(0))
    )
    trial.model.train()
    # moves the BatchNorm running statistics away from their initial values
    trial.model(train_batch[0])
    x = trial.data.test.x[:32]
    folded = inference_model(trial.model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    # the trial's model is untouched
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trial.model.modules())
    with torch.no_grad():
        assert torch.allclose(folded(x), trial.model.eval()(x), atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_a_compiled_trial_trains_and_its_checkpoint_fits_an_eager_one():
    cfg = TrialConfig.from_flat({**DIGITS, "train.epochs": 2, "train.compile": True})
    states = []
    final = train(
        cfg, lambda metrics, state=None: states.append(copy.deepcopy(state)), checkpoint=True
    )
    assert final["test_accuracy"] > 0.5
    eager = []
    train(
        cfg.replace(train__compile=False),
        lambda m, state=None: eager.append(m),
        resume=states[0],
        checkpoint=True,
    )
    assert [m["epoch"] for m in eager] == [2] and math.isfinite(eager[0]["train_loss"])


def test_both_complement_optimizers_follow_the_lr_milestones():
    """COT decays the second optimizer's lr with the first's (both groups of both optimizers)."""
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "train.epochs": 3,
            "loss.output": "normface",  # its class weights make the second group
            "scale.start": 16.0,
            "loss.terms.complement.weight": 1.0,
            "optim.lr": 0.1,
            "optim.lr_milestones": "1,2",
            "optim.lr_gamma": 0.5,
            "optim.class_weight_lr_multiplier": 10.0,
        }
    )
    history = []
    train(cfg, history.append)
    assert [m["lr"] for m in history] == pytest.approx([0.1, 0.05, 0.025])
    assert [m["lr_secondary"] for m in history] == pytest.approx([0.1, 0.05, 0.025])

    from trainables.state import TrialState

    trial = TrialState(cfg)
    for _ in range(2):
        trial.step_lr_schedules()
    for optimizer in (trial.optimizer, trial.secondary_optimizer):
        assert {g["name"]: g["lr"] for g in optimizer.param_groups} == pytest.approx(
            {"backbone": 0.025, "class_weights": 0.25}
        )


@pytest.mark.parametrize("output, continues", [("ce", True), ("normface", False)])
def test_ce_pretraining_is_continued_by_a_ce_output_head(output, continues):
    """The main phase of a CE trial goes on with the pre-trained classifier: with its lr all but
    zero after pre-training, its val accuracy stays where pre-training left it; a cosine head
    starts anew (chance level)."""
    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "loss.output": output,
            "train.pretrain_epochs": 2,
            "train.epochs": 1,
            "optim.lr": 0.05,
            "optim.lr_milestones": "2",
            "optim.lr_gamma": 1e-9,
        }
    )
    history = []
    train(cfg, history.append)
    pretrained, main = history[1]["val_accuracy"], history[2]["val_accuracy"]
    assert pretrained > 0.8
    if continues:
        assert main >= pretrained - 0.05
    else:
        assert main < 0.4


def test_a_term_with_its_own_optimizer_is_stepped_by_it():
    """Seed 001: PC's centres by plain SGD, the backbone (CE + PC) and Complement by momentum SGD."""
    from trainables.phases import phases_of
    from trainables.routine import train_epoch
    from trainables.state import TrialState

    cfg = TrialConfig.from_flat(
        {
            **DIGITS,
            "train.epochs": 1,
            "optim.name": "sgd_momentum",
            "optim.lr_milestones": "1",
            "loss.terms.pc.weight": 0.01,
            "loss.terms.pc.optimizer": "sgd",
            "loss.terms.complement.weight": 1.0,
            "loss.terms.complement.optimizer": "sgd_momentum",
        }
    )
    trial = TrialState(cfg)
    centres = trial.objective.terms["pc"].weight
    pc_optimizer = trial.term_optimizers["pc"]
    assert isinstance(pc_optimizer, torch.optim.SGD) and pc_optimizer.defaults["momentum"] == 0
    assert [p for g in pc_optimizer.param_groups for p in g["params"]] == [centres]
    for optimizer in (trial.optimizer, trial.secondary_optimizer):
        assert optimizer.defaults["momentum"] == 0.9
        assert all(p is not centres for g in optimizer.param_groups for p in g["params"])
    before = centres.detach().clone()
    metrics = train_epoch(trial, phases_of(cfg)[0], 0)
    assert not torch.equal(before, centres.detach())  # moved by its own optimizer
    # plain SGD keeps none
    assert all(s.get("momentum_buffer") is None for s in pc_optimizer.state.values())
    assert metrics["lr_pc"] == metrics["lr"] == 0.05
    trial.step_lr_schedules()
    assert trial.learning_rates() == pytest.approx(
        {"lr": 0.005, "lr_pc": 0.005, "lr_secondary": 0.005}
    )


def test_a_term_without_parameters_cannot_have_an_optimizer():
    cfg = TrialConfig.from_flat(
        {**DIGITS, "loss.terms.center.weight": 0.01, "loss.terms.center.optimizer": "sgd"}
    )
    with pytest.raises(ValueError, match="center has no learnable parameters"):
        train(cfg, lambda m: None)
