"""Parameter importances by fANOVA (Hutter et al. ICML 2014), through Optuna's evaluator.

The trials of a study are rebuilt as an in-memory Optuna study (``optuna.trial.create_trial``)
with distributions inferred from the recorded params, so the importances work for any MLflow
store, whatever sampler produced it. Returns plain data; ``analysis.plots`` draws it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# a design variable (one Optuna study per class count), not a searched one
EXCLUDED = ("data.num_classes",)
LOG_RATIO = 10.0  # positive numbers spanning >= this factor get a log-scale distribution


def infer_distribution(values: pd.Series):
    """An Optuna distribution covering ``values``: int, float (log when positive and wide) or categorical."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    values = values.dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and not values.map(lambda v: isinstance(v, bool)).any():
        low, high = float(numeric.min()), float(numeric.max())
        log = low > 0 and high / low >= LOG_RATIO
        if np.all(np.mod(numeric, 1) == 0):
            return IntDistribution(int(low), int(high), log=log)
        return FloatDistribution(low, high, log=log)
    return CategoricalDistribution(sorted(values.astype(str).unique()))


def rebuild_study(trials: pd.DataFrame, metric: str, mode: str, exclude=EXCLUDED):
    """An in-memory Optuna study holding the trials that ran their whole budget
    (``analysis.report.full_budget``: a staged study's screen and trials stopped early are another
    fidelity) with ``metric``, and the params that vary."""
    import optuna
    from optuna.distributions import CategoricalDistribution

    from analysis.report import full_budget

    column = f"metric:{metric}"
    done = full_budget(trials)
    done = done[done[column].notna()] if column in done else done.iloc[:0]
    names = [
        c
        for c in done
        if c.startswith("param:")
        and c[len("param:") :] not in exclude
        and done[c].nunique(dropna=True) > 1
        and done[c].notna().all()
    ]
    distributions = {c[len("param:") :]: infer_distribution(done[c]) for c in names}
    study = optuna.create_study(direction="maximize" if mode == "max" else "minimize")
    for _, row in done.iterrows():
        params = {}
        for c in names:
            key, dist = c[len("param:") :], distributions[c[len("param:") :]]
            value = row[c]
            if isinstance(dist, CategoricalDistribution):
                params[key] = str(value)
            else:
                params[key] = int(value) if isinstance(dist.low, int) else float(value)
        study.add_trial(
            optuna.trial.create_trial(
                value=float(row[column]), params=params, distributions=distributions
            )
        )
    return study


def importance_info(trials: pd.DataFrame, metric: str, mode: str, seed: int = 0) -> dict[str, Any]:
    """``{"importances": {param: share}, "trials": n, "message": str}``; importances sum to 1, largest first.

    Empty importances with a message when fewer than 2 full-budget trials or no varying parameter.
    """
    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created in memory" lines
    try:
        study = rebuild_study(trials, metric, mode)
        n = len(study.trials)
        params = sorted({k for t in study.trials for k in t.params})
        if n < 2 or not params:
            return {
                "importances": {},
                "trials": n,
                "method": "fANOVA",
                "message": f"importances need >= 2 full-budget trials and a varying parameter ({n} trials, {len(params)} parameters)",
            }
        found = optuna.importance.get_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=seed)
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    return {
        "importances": {k: float(v) for k, v in found.items()},
        "trials": n,
        "method": "fANOVA",
        "message": f"fANOVA over {n} full-budget trials and {len(params)} varying parameters",
    }


__all__ = ["importance_info", "infer_distribution", "rebuild_study"]
