"""The training routine and everything it trains with; imports torch only (Ray lives in ray_trainable.py)."""

from trainables.config import ConfigError, TrialConfig

__all__ = ["ConfigError", "TrialConfig"]
