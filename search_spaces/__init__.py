"""Define-by-run Optuna search spaces: they only call ``trial.suggest_*`` and return constants.

A space takes an ``optuna.Trial`` and returns a dict of fixed flat config values; the values it
suggests are named by their flat config key (``scale.start``, ``optim.lr``) or, for a choice
that is not itself a config value, by a ``search.`` label; every sampled point validates through
``TrialConfig.from_flat``. One module per concern: losses, scale, margins, head/tail, nuisance.
"""

# the space modules register their spaces when imported
from search_spaces import head_tail, heads, margins, nuisance, scale, seeds
from search_spaces.registry import SPACES, compose, space_names

__all__ = ["SPACES", "compose", "space_names"]
