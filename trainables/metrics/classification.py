"""Classification metrics: accuracy, per-class recall, class-group accuracies, confusion matrix.

Group accuracies (head/tail, many/medium/few) are the mean per-class recall over the group's
classes that occur in ``y_true`` (as in OLTR's shot accuracy; equal to the sample accuracy of
the group on a balanced test set).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from trainables.metrics._arrays import as_numpy

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "class_recall",
    "classification_report",
    "confusion_matrix",
    "group_accuracy",
    "per_class_recall",
]


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Top-1 accuracy: share of predictions equal to the label."""
    t, p = as_numpy(y_true), as_numpy(y_pred)
    return float((t == p).mean()) if len(t) else float("nan")


def per_class_recall(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """(num_classes,) recall of each class (sklearn ``recall_score(average=None)``); NaN for a
    class absent from ``y_true``."""
    return recall_score(
        as_numpy(y_true),
        as_numpy(y_pred),
        labels=np.arange(num_classes),
        average=None,
        zero_division=np.nan,
    )


def group_accuracy(y_true: Any, y_pred: Any, classes: Sequence[int], num_classes: int) -> float:
    """Mean recall over ``classes`` that occur in ``y_true``; NaN if none does."""
    recalls = per_class_recall(y_true, y_pred, num_classes)[list(classes)]
    recalls = recalls[~np.isnan(recalls)]
    return float(recalls.mean()) if len(recalls) else float("nan")


def balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """Mean recall over the classes present in ``y_true`` (sklearn ``balanced_accuracy_score``)."""
    return float(balanced_accuracy_score(as_numpy(y_true), as_numpy(y_pred)))


def class_recall(y_true: Any, y_pred: Any, cls: int) -> float:
    """Recall of one class (e.g. the study's "important" class); NaN if it has no samples."""
    t, p = as_numpy(y_true), as_numpy(y_pred)
    mask = t == cls
    return float((p[mask] == cls).mean()) if mask.any() else float("nan")


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts, rows = true class, columns = predicted (sklearn)."""
    return sk_confusion_matrix(as_numpy(y_true), as_numpy(y_pred), labels=np.arange(num_classes))


def classification_report(
    y_true: Any,
    y_pred: Any,
    num_classes: int,
    head: Sequence[int] = (),
    tail: Sequence[int] = (),
    many: Sequence[int] = (),
    medium: Sequence[int] = (),
    few: Sequence[int] = (),
    important_class: int | None = None,
) -> dict[str, float]:
    """Flat metrics for logging: ``accuracy``, ``balanced_accuracy``, ``head_accuracy``,
    ``tail_accuracy``, ``many_accuracy``, ``medium_accuracy``, ``few_accuracy`` (each only when
    its group has classes) and ``important_class_recall`` (when ``important_class`` is given)."""
    out = {
        "accuracy": accuracy(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred),
    }
    for name, classes in (
        ("head", head),
        ("tail", tail),
        ("many", many),
        ("medium", medium),
        ("few", few),
    ):
        if len(classes):
            out[f"{name}_accuracy"] = group_accuracy(y_true, y_pred, classes, num_classes)
    if important_class is not None:
        out["important_class_recall"] = class_recall(y_true, y_pred, int(important_class))
    return out
