"""Analysis: MLflow runs -> one tidy pandas DataFrame -> pure fits -> plots and reports."""
from analysis.load import load_trials
from analysis.report import best_trial, write_report

__all__ = ["load_trials", "best_trial", "write_report"]
