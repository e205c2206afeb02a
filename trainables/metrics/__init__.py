"""Metrics of the study: classification, retrieval, feature clusters, class proxies, Grad-CAM.

scikit-learn computes recall, balanced accuracy, the confusion matrix, Silhouette and
Calinski-Harabasz; torch computes the nearest-neighbour metrics; ``grad-cam`` the attention maps.
"""

from trainables.metrics.classification import (
    accuracy,
    balanced_accuracy,
    class_recall,
    classification_report,
    confusion_matrix,
    group_accuracy,
    per_class_recall,
)
from trainables.metrics.embedding import (
    calinski_harabasz,
    feature_cluster_report,
    proxy_cosine_histogram,
    proxy_cosine_stats,
    proxy_cosines,
    silhouette,
)
from trainables.metrics.gradcam import LogitsModel, gradcam_grid, gradcam_maps, save_cam_grid
from trainables.metrics.retrieval import map_at_r, r_precision, recall_at_k, retrieval_report

__all__ = [
    "LogitsModel",
    "accuracy",
    "balanced_accuracy",
    "calinski_harabasz",
    "class_recall",
    "classification_report",
    "confusion_matrix",
    "feature_cluster_report",
    "gradcam_grid",
    "gradcam_maps",
    "group_accuracy",
    "map_at_r",
    "per_class_recall",
    "proxy_cosine_histogram",
    "proxy_cosine_stats",
    "proxy_cosines",
    "r_precision",
    "recall_at_k",
    "retrieval_report",
    "save_cam_grid",
    "silhouette",
]
