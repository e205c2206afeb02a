"""Defaults the command line and ``StudySpec`` share, each stated once."""

from __future__ import annotations

# the MLflow store without --tracking-uri or $MLFLOW_TRACKING_URI
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# Ray Tune's experiment state and checkpoints without --storage
DEFAULT_STORAGE = "study_results"
# seeds of numpy's and Optuna's samplers: 0 <= seed < SEED_LIMIT
SEED_LIMIT = 2**32

__all__ = ["DEFAULT_STORAGE", "DEFAULT_TRACKING_URI", "SEED_LIMIT"]
