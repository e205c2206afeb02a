"""Analysis: MLflow runs -> one tidy pandas DataFrame -> pure fits -> plots and reports.

``load`` is the only module that talks to MLflow; ``trends``, ``importance`` and ``summaries``
compute plain data; ``plots`` draws it; ``report`` and ``render`` write JSON, Markdown and HTML.
Plotting modules import matplotlib, so they are not imported here.
"""

from analysis.load import RunRecord, load_metric_histories, load_run, load_trials
from analysis.reference import PAPER_TABLES, THESIS_OPTIMA
from analysis.report import best_trial, replay_command, write_report
from analysis.trends import TrendResult, fit_law, scale_trend

__all__ = [
    "PAPER_TABLES",
    "THESIS_OPTIMA",
    "RunRecord",
    "TrendResult",
    "best_trial",
    "fit_law",
    "load_metric_histories",
    "load_run",
    "load_trials",
    "replay_command",
    "scale_trend",
    "write_report",
]
