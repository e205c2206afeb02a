"""Files a finished trial leaves behind for people to look at: per-class recall, the confusion
matrix, the class-weight cosine histogram and a Grad-CAM grid. Written to a local directory;
the study uploads them to the trial's MLflow run.

``train(..., write_artifacts=...)`` takes a writer such as ``partial(write_artifacts,
directory=...)`` and calls it once, with the trial's state and its final evaluation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from trainables import metrics
from trainables.evaluation import Evaluation
from trainables.state import TrialState


def write_artifacts(state: TrialState, final: Evaluation, directory: str | Path) -> list[Path]:
    """Write the artifacts of a finished trial into ``directory``, from its state and its final
    evaluation's test predictions; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = state.data
    written: list[Path] = []
    # unseen test classes: no per-class predictions
    if data.retrieval or final.test_predictions is None:
        return written + _cosine_histogram(state, out)
    y, p = data.test.y.cpu().numpy(), final.test_predictions.cpu().numpy()
    recall = metrics.per_class_recall(y, p, data.num_classes)
    counts = data.class_counts.numpy()
    table = pd.DataFrame(
        {
            "class": range(data.num_classes),
            "name": list(data.class_names)[: data.num_classes],
            "train_images": counts,
            "head": [c in set(data.head_classes) for c in range(data.num_classes)],
            "test_recall": recall,
        }
    )
    table.to_csv(out / "per_class_recall.csv", index=False)
    written.append(out / "per_class_recall.csv")
    written.append(
        _confusion(metrics.confusion_matrix(y, p, data.num_classes), out / "confusion_matrix.png")
    )
    written += _cosine_histogram(state, out)
    written += _gradcam(state, out)
    return written


def _confusion(matrix, path: Path) -> Path:
    import matplotlib.pyplot as plt

    size = min(12.0, 3.0 + 0.12 * len(matrix))
    fig, ax = plt.subplots(figsize=(size, size))
    shown = ax.imshow(matrix, cmap="Blues")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("test confusion matrix")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _cosine_histogram(state: TrialState, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    weights = state.objective.class_weights()
    if weights.shape[0] < 2:
        return []
    counts, edges = metrics.proxy_cosine_histogram(weights.detach().float().cpu())
    stats = metrics.proxy_cosine_stats(weights.detach().float().cpu())
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.stairs(counts, edges, fill=True, alpha=0.7)
    ax.set_xlabel("cosine similarity between class weights / proxies")
    ax.set_ylabel("pairs")
    ax.set_title(f"mean {stats['proxy_cos_mean']:.3f}, variance {stats['proxy_cos_var']:.4f}")
    fig.tight_layout()
    path = out / "class_weight_cosines.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def _gradcam(state: TrialState, out: Path) -> list[Path]:
    images = state.cfg.train.gradcam_images
    if not images or getattr(state.model, "cam_layer", None) is None:
        return []
    test = state.data.test
    picked = torch.linspace(0, len(test) - 1, min(images, len(test))).long()  # spread over classes
    x, y = test.x[picked], test.y[picked]
    phase = state.final_phase
    with torch.enable_grad():
        path = metrics.gradcam_grid(
            state.model,
            lambda e: state.logits(e, phase),
            x,
            y.cpu(),
            out / "gradcam.png",
            class_names=state.data.class_names,
        )
    return [Path(path)]
