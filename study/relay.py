"""A Ray Tune callback (and a stopper) that forwards to what the running driver registered.

Ray Tune pickles a run's callbacks with its experiment, and ``Tuner.restore`` calls those old
copies (Tune has no public way to hand it new ones). The study's ``RunConfig`` therefore holds
only a ``Relay(key)``; each driver, the first ``study run`` or a later ``study resume``,
registers its own callbacks under that key before ``fit()``, so a resumed study records to the
store it was given now and its counters start at zero.

``IS_CALLBACK_CONTAINER`` makes Ray check, when this module is imported, that every hook of
its ``Callback`` is forwarded: a Ray release that adds a hook fails here, loudly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray.tune import Callback, Stopper

_LIVE: dict[str, list[Callback]] = {}
_STOPPERS: dict[str, Stopper] = {}


def register(key: str, callbacks: Sequence[Callback], stopper: Stopper | None = None) -> None:
    """The callbacks that a ``Relay(key)``, and the stopper that a ``RelayStopper(key)``, in this
    process forward to, from now on."""
    _LIVE[key] = list(callbacks)
    if stopper is not None:
        _STOPPERS[key] = stopper


class RelayStopper(Stopper):
    """The stopper of a ``RunConfig``, forwarding to the one the running driver registered."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        stopper = _STOPPERS.get(self.key)
        return bool(stopper and stopper(trial_id, result))

    def stop_all(self) -> bool:
        stopper = _STOPPERS.get(self.key)
        return bool(stopper and stopper.stop_all())


class Relay(Callback):
    IS_CALLBACK_CONTAINER = True

    def __init__(self, key: str) -> None:
        self.key = key

    def _forward(self, hook: str, info: dict[str, Any]) -> None:
        for callback in _LIVE.get(self.key, ()):
            getattr(callback, hook)(**info)

    def setup(self, **info: Any) -> None:
        self._forward("setup", info)

    def on_step_begin(self, **info: Any) -> None:
        self._forward("on_step_begin", info)

    def on_step_end(self, **info: Any) -> None:
        self._forward("on_step_end", info)

    def on_trial_start(self, **info: Any) -> None:
        self._forward("on_trial_start", info)

    def on_trial_restore(self, **info: Any) -> None:
        self._forward("on_trial_restore", info)

    def on_trial_save(self, **info: Any) -> None:
        self._forward("on_trial_save", info)

    def on_trial_result(self, **info: Any) -> None:
        self._forward("on_trial_result", info)

    def on_trial_complete(self, **info: Any) -> None:
        self._forward("on_trial_complete", info)

    def on_trial_recover(self, **info: Any) -> None:
        self._forward("on_trial_recover", info)

    def on_trial_error(self, **info: Any) -> None:
        self._forward("on_trial_error", info)

    def on_checkpoint(self, **info: Any) -> None:
        self._forward("on_checkpoint", info)

    def on_experiment_end(self, **info: Any) -> None:
        self._forward("on_experiment_end", info)
