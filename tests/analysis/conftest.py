"""Fixtures of the analysis tests: a real MLflow sqlite store holding a small synthetic study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synthetic_study import add_unfinished, fill_store, synthetic_trials


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> dict[str, Any]:
    """3 class counts x 6 finished trials, plus one FAILED and one RUNNING trial, under a study parent run.

    Shared by the whole session: tests only read it.
    """
    path: Path = tmp_path_factory.mktemp("store") / "mlflow.db"
    uri = f"sqlite:///{path}"
    trials = synthetic_trials(class_counts=(5, 20, 100), per_class=6, seed=1)
    ids = fill_store(uri, trials)
    extra = add_unfinished(uri)
    return {"uri": uri, "trials": trials, "ids": ids, **extra}
