"""Orchestration: the only package that uses Ray Tune, Optuna and MLflow together."""

from study.cluster import present_ray_token

present_ray_token()  # before anything imports Ray, which reads RAY_AUTH_MODE once, on import
