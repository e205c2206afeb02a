"""Per-epoch evaluation of a trial: the validation metrics every epoch (all that the search and
the schedulers read), the test set once, with the full metric set, after the last epoch."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.fx.experimental.optimization import fuse

from trainables.data import Split
from trainables.phases import Phase

if TYPE_CHECKING:
    from trainables.routine import Trial

PER_CLASS_METRICS_UP_TO = 100  # classes for which per-class recall is also logged as metrics
EVAL_BATCH = {"cuda": 1024, "cpu": 128}  # images per forward pass; large CPU batches fall out of cache


def inference_model(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with each BatchNorm folded into the convolution before it
    (torch.fx's ``fuse``): the same outputs up to rounding, and about 1.8x faster forward passes
    on CPU. A model that torch.fx cannot trace is returned as it is, in eval mode."""
    model.eval()
    try:
        return fuse(model).to(memory_format=torch.channels_last)
    except Exception:  # data-dependent control flow: evaluate the model itself
        return model


@torch.no_grad()
def embed(trial: "Trial", split: Split, model: nn.Module | None = None) -> torch.Tensor:
    """Embeddings of a whole split, in eval mode (by ``model``, an ``inference_model`` of the
    trial's, when given)."""
    trial.model.eval()
    trial.objective.eval()
    model = model if model is not None else inference_model(trial.model)
    parts = [trial.forward(x, model) for x, _ in split.batches(EVAL_BATCH.get(trial.device.type, 128), shuffle=False)]
    return torch.cat(parts) if parts else torch.empty(0, trial.cfg.model.embedding_dim)


@torch.no_grad()
def predict(trial: "Trial", split: Split, phase: Phase, model: nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    embeddings = embed(trial, split, model)
    return embeddings, trial.logits(embeddings, phase).argmax(1)


def evaluate(trial: "Trial", phase: Phase, final: bool) -> dict[str, float]:
    """val_accuracy (and CAMRI's important-class recall, the proxies' spread) every epoch; with
    ``final`` also test_accuracy (or Recall@1 on unseen test classes) and the full test report."""
    from trainables import metrics

    data = trial.data
    model = inference_model(trial.model)  # one folded copy of this epoch's weights for val and test
    _, val_pred = predict(trial, data.val, phase, model)
    out = {"val_accuracy": float((val_pred == data.val.y).float().mean())}
    important = trial.cfg.loss.params.get("important_class")
    if important is not None:  # CAMRI's second objective, every epoch
        is_important = data.val.y == int(important)
        out["val_important_class_recall"] = float((val_pred[is_important] == int(important)).float().mean())
    weights = trial.objective.class_weights() if phase.uses_objective else None
    if weights is not None and weights.shape[0] > 1:  # seed 002 tracks the proxies' spread per epoch
        out.update(metrics.proxy_cosine_stats(weights.detach().float().cpu()))
    if not final:  # the search and the schedulers need the validation metrics only
        return out
    if getattr(data, "retrieval", False):
        test_emb = embed(trial, data.test, model)
        out.update({f"test_{k}": v for k, v in metrics.retrieval_report(test_emb, data.test.y).items()})
        out["test_accuracy"] = out["test_recall_at_1"]
        return out
    test_emb, test_pred = predict(trial, data.test, phase, model)
    out["test_accuracy"] = float((test_pred == data.test.y).float().mean())
    report = metrics.classification_report(
        data.test.y.cpu().numpy(), test_pred.cpu().numpy(), data.num_classes,
        head=data.head_classes, tail=data.tail_classes, many=data.many_classes,
        medium=data.medium_classes, few=data.few_classes,
        important_class=trial.cfg.loss.params.get("important_class"),
    )
    out.update({f"test_{k}": v for k, v in report.items() if k != "accuracy"})
    if data.num_classes <= PER_CLASS_METRICS_UP_TO:  # per-class bars in the report; CSV artifact beyond
        recall = metrics.per_class_recall(data.test.y.cpu().numpy(), test_pred.cpu().numpy(), data.num_classes)
        out.update({f"test_class_{k}_recall": float(r) for k, r in enumerate(recall)})
    clusters = metrics.feature_cluster_report(test_emb.float().cpu(), data.test.y.cpu())
    out.update({f"test_{k}": v for k, v in clusters.items()})
    return out
