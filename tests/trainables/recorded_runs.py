"""Real tiny studies for tests that read a store back: a preset's smoke study, made smaller where
a test needs it (fewer epochs, fewer images, a part of its grid), run by `study run --config`
through Ray Tune into a fresh MLflow sqlite store, and read back with ``analysis.load``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.load import load_trials
from study.presets import PRESETS
from tests.conftest import run_study_cli

# fewer and smaller images than the presets' smoke size: the tests read what is recorded, not accuracy
SMALL = {"data.max_per_class": 30, "data.image_size": 16, "train.batch_size": 64}


def run_small_preset(
    preset: str, folder: Path, base: dict[str, Any] | None = None, **fields: Any
) -> tuple[str, pd.DataFrame]:
    """Run ``preset`` at smoke size with ``base`` values and study ``fields`` replaced; returns the
    store's URI and its trials as ``load_trials`` gives them (one row per trial run)."""
    spec = PRESETS.get(preset).build("smoke", "")
    spec = {
        **spec,
        # as `study run --preset P --size smoke --dry-run --format yaml` writes them
        "preset": preset,
        "size": "smoke",
        "base": {**spec["base"], **(base or {})},
        **fields,
        "name": f"{preset}-recorded",
    }
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "study.yaml"
    config.write_text(yaml.safe_dump(json.loads(json.dumps(spec))))  # tuples become YAML lists
    store = f"sqlite:///{folder / 'mlflow.db'}"
    done = run_study_cli(
        "run",
        "--config",
        str(config),
        "--tracking-uri",
        store,
        "--storage",
        str(folder / "results"),
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return store, load_trials(store, spec["name"])
