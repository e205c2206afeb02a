"""Orchestration: the only package that uses Ray Tune, Optuna and MLflow together."""
