"""Defaults the command line and ``StudySpec`` share, each stated once."""
from __future__ import annotations

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # the MLflow store without --tracking-uri or $MLFLOW_TRACKING_URI
DEFAULT_STORAGE = "study_results"  # Ray Tune's experiment state and checkpoints without --storage

__all__ = ["DEFAULT_STORAGE", "DEFAULT_TRACKING_URI"]
