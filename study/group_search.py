"""All of a study's groups (e.g. class counts) in one Ray Tune run, each with its own searcher
and scheduler, so the cluster never idles at the tail of one group while the next waits.

``GroupedSearcher`` hands out trials round-robin over the groups that still have budget (each
group's own Optuna study proposes its trials and learns only from them); ``GroupedScheduler``
routes every trial to its group's scheduler, so ASHA or the median rule compares a trial only
with trials of the same group (accuracies at different class counts are not comparable).
Both are picklable: Ray Tune checkpoints them with the experiment, and ``study resume`` gets
every group's sampler history back.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ray.tune.schedulers import TrialScheduler
from ray.tune.search import Searcher


@contextmanager
def _already_told() -> Iterator[None]:
    """After a killed driver, Ray Tune resumes from its last snapshot and may re-run a trial whose
    Optuna trial the persistent Optuna storage already holds as finished: the sampler has that
    result, so the late report is dropped instead of failing the study."""
    from optuna.exceptions import UpdateFinishedTrialError

    try:
        yield
    except UpdateFinishedTrialError:
        pass


def group_of(config: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> int:
    """Index of the group whose fixed values the trial's config carries (0 when groups are not distinguishable)."""
    for index, group in enumerate(groups):
        if group and all(config.get(key) == value for key, value in group.items()):
            return index
    return 0


class GroupedSearcher(Searcher):
    """One searcher per group, ``budget`` trials each, suggestions interleaved across groups."""

    def __init__(self, searchers: Sequence[Searcher], budget: int) -> None:
        super().__init__()
        self.searchers = list(searchers)
        self.budget = budget
        self.suggested = [0] * len(self.searchers)
        self.exhausted = [False] * len(self.searchers)
        self.owner: dict[str, int] = {}  # trial id -> group index

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        results = [s.set_search_properties(metric, mode, config, **spec) for s in self.searchers]
        return all(results)

    def suggest(self, trial_id: str) -> dict | str | None:
        open_groups = [
            i
            for i in range(len(self.searchers))
            if not self.exhausted[i] and self.suggested[i] < self.budget
        ]
        if not open_groups:
            return Searcher.FINISHED
        # the group furthest behind first
        for index in sorted(open_groups, key=lambda i: (self.suggested[i], i)):
            config = self.searchers[index].suggest(trial_id)
            if config == Searcher.FINISHED:
                self.exhausted[index] = True
                continue
            if config is None:
                continue
            self.suggested[index] += 1
            self.owner[trial_id] = index
            return config
        return Searcher.FINISHED if all(self.exhausted[i] for i in open_groups) else None

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id not in self.owner:
            return
        searcher = self.searchers[self.owner[trial_id]]
        metrics = searcher.metric if isinstance(searcher.metric, list) else [searcher.metric]
        # an epoch that skipped validation (train.validate_every) has none
        if all(m in result for m in metrics if m):
            with _already_told():
                searcher.on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        if trial_id in self.owner:
            with _already_told():
                self.searchers[self.owner[trial_id]].on_trial_complete(
                    trial_id, result=result, error=error
                )

    def get_state(self) -> dict:
        return {
            "searchers": self.searchers,
            "budget": self.budget,
            "suggested": self.suggested,
            "exhausted": self.exhausted,
            "owner": self.owner,
        }

    def set_state(self, state: dict) -> None:
        self.__dict__.update(state)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.get_state(), handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.set_state(pickle.load(handle))


class GroupedScheduler(TrialScheduler):
    """One trial scheduler per group; each trial is decided by its own group's scheduler."""

    def __init__(
        self, schedulers: Sequence[TrialScheduler], groups: Sequence[Mapping[str, Any]]
    ) -> None:
        super().__init__()
        self.schedulers = list(schedulers)
        self.groups = [dict(g) for g in groups]

    def _of(self, trial: Any) -> TrialScheduler:
        return self.schedulers[group_of(trial.config, self.groups)]

    @property
    def metric(self) -> str | None:
        return self.schedulers[0].metric

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        results = [s.set_search_properties(metric, mode, **spec) for s in self.schedulers]
        return all(results)

    def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
        self._of(trial).on_trial_add(tune_controller, trial)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        self._of(trial).on_trial_error(tune_controller, trial)

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        return self._of(trial).on_trial_result(tune_controller, trial, result)

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict) -> None:
        self._of(trial).on_trial_complete(tune_controller, trial, result)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self._of(trial).on_trial_remove(tune_controller, trial)

    def choose_trial_to_run(self, tune_controller: Any) -> Any:
        for scheduler in self.schedulers:  # all of them pick pending trials first-in, first-out
            trial = scheduler.choose_trial_to_run(tune_controller)
            if trial is not None:
                return trial
        return None

    def debug_string(self) -> str:
        return " | ".join(s.debug_string() for s in self.schedulers)
