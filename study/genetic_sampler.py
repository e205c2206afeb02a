"""Optuna's NSGA-II sampler in a form Ray Tune can save.

Tune pickles the search algorithm, and so its sampler, whenever it saves the experiment; Optuna 5.1's
genetic samplers hold a ``threading.Lock`` (a per-process guard of their generation cache), which
pickling refuses. The lock is left out of the pickled state and made anew on loading.
"""

from __future__ import annotations

import threading
from typing import Any

from optuna.samplers import NSGAIISampler


class PicklableNSGAIISampler(NSGAIISampler):
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_thread_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()
