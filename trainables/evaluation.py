"""Per-epoch evaluation of a trial: the validation metrics every epoch (all that the search and
the schedulers read), the test set once, with the full metric set, after the last epoch; that
final evaluation also hands over its test predictions, from which the artifacts are drawn."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.fx.experimental.optimization import fuse

from trainables.data import Split
from trainables.metric_names import VAL_ACCURACY
from trainables.phases import Phase
from trainables.state import TrialState

PER_CLASS_METRICS_UP_TO = 100  # classes for which per-class recall is also logged as metrics
# images per forward pass; large CPU batches fall out of cache
EVAL_BATCH = {"cuda": 1024, "cpu": 128}


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation found: the metrics to report and, after the last epoch of a
    classification trial, the predicted class of each test image (for the artifacts)."""

    metrics: dict[str, float]
    test_predictions: torch.Tensor | None = None


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
def embed(state: TrialState, split: Split, model: nn.Module | None = None) -> torch.Tensor:
    """Embeddings of a whole split, in eval mode (by ``model``, an ``inference_model`` of the
    trial's, when given)."""
    state.model.eval()
    state.objective.eval()
    model = model if model is not None else inference_model(state.model)
    parts = [
        state.forward(x, model)
        for x, _ in split.batches(EVAL_BATCH.get(state.device.type, 128), shuffle=False)
    ]
    return torch.cat(parts) if parts else torch.empty(0, state.cfg.model.embedding_dim)


@torch.no_grad()
def predict(
    state: TrialState, split: Split, phase: Phase, model: nn.Module | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    embeddings = embed(state, split, model)
    return embeddings, state.logits(embeddings, phase).argmax(1)


def validation_recall(embeddings: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """``val_recall_at_1``: Recall@1 among the embeddings of the validation classes (each image's
    nearest other image has its class), the retrieval protocol on classes training never saw."""
    from trainables import metrics

    return {
        "val_recall_at_1": float(
            metrics.recall_at_k(embeddings.float().cpu(), labels.cpu(), (1,))[1]
        )
    }


def evaluate(state: TrialState, phase: Phase, final: bool) -> Evaluation:
    """val_accuracy (and the important class's recall, Recall@1 on validation classes, the
    proxies' spread) every epoch; with ``final`` also test_accuracy (or Recall@1 on unseen test
    classes), the full test report and the test predictions."""
    from trainables import metrics

    data = state.data
    model = inference_model(state.model)  # one folded copy of this epoch's weights for val and test
    _, val_pred = predict(state, data.val, phase, model)
    out = {VAL_ACCURACY: float((val_pred == data.val.y).float().mean())}
    important = state.cfg.data.important_class
    if important >= 0:  # whatever the loss: CAMRI's second objective and its CE baseline's
        is_important = data.val.y == important
        out["val_important_class_recall"] = float(
            (val_pred[is_important] == important).float().mean()
        )
    # retrieval on classes held out of training (selection, never the test classes)
    if data.val_unseen is not None:
        out.update(validation_recall(embed(state, data.val_unseen, model), data.val_unseen.y))
    if phase.uses_objective:  # seed 002 tracks the proxies' spread per epoch
        weights = state.objective.class_weights()
        if weights.shape[0] > 1:
            out.update(metrics.proxy_cosine_stats(weights.detach().float().cpu()))
    if not final:  # the search and the schedulers need the validation metrics only
        return Evaluation(out)
    if data.retrieval:
        test_emb = embed(state, data.test, model)
        out.update(
            {f"test_{k}": v for k, v in metrics.retrieval_report(test_emb, data.test.y).items()}
        )
        out["test_accuracy"] = out["test_recall_at_1"]
        return Evaluation(out)
    test_emb, test_pred = predict(state, data.test, phase, model)
    out["test_accuracy"] = float((test_pred == data.test.y).float().mean())
    report = metrics.classification_report(
        data.test.y.cpu().numpy(),
        test_pred.cpu().numpy(),
        data.num_classes,
        head=data.head_classes,
        tail=data.tail_classes,
        many=data.many_classes,
        medium=data.medium_classes,
        few=data.few_classes,
        important_class=important if important >= 0 else None,
    )
    out.update({f"test_{k}": v for k, v in report.items() if k != "accuracy"})
    # per-class bars in the report; CSV artifact beyond
    if data.num_classes <= PER_CLASS_METRICS_UP_TO:
        recall = metrics.per_class_recall(
            data.test.y.cpu().numpy(), test_pred.cpu().numpy(), data.num_classes
        )
        out.update({f"test_class_{k}_recall": float(r) for k, r in enumerate(recall)})
    clusters = metrics.feature_cluster_report(
        test_emb.float().cpu(),
        data.test.y.cpu(),
        silhouette_samples=state.cfg.train.silhouette_samples,
    )
    out.update({f"test_{k}": v for k, v in clusters.items()})
    return Evaluation(out, test_predictions=test_pred)
