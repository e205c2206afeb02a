"""All groups (class counts) of a study in one Tune run: suggestions interleave across the
groups' own Optuna searchers, each learns only from its own trials, and the state survives a
save/restore (study resume)."""

from __future__ import annotations

import optuna
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from study.group_search import GroupedScheduler, GroupedSearcher, group_of

GROUPS = [{"data.num_classes": 5}, {"data.num_classes": 10}]


class Space:
    """A define-by-run space that, like the study's ComposedSpace, pickles with the searcher."""

    def __init__(self, classes: int) -> None:
        self.classes = classes

    def __call__(self, trial) -> dict:
        trial.suggest_float("scale.start", 1.0, 64.0, log=True)
        return {"data.num_classes": self.classes}


def searchers() -> list[OptunaSearch]:
    return [
        OptunaSearch(
            space=Space(g["data.num_classes"]),
            metric="val_accuracy",
            mode="max",
            sampler=optuna.samplers.RandomSampler(seed=i),
        )
        for i, g in enumerate(GROUPS)
    ]


def test_suggestions_take_turns_over_the_groups_until_each_has_its_budget():
    grouped = GroupedSearcher(searchers(), budget=2)
    configs = [grouped.suggest(f"t{i}") for i in range(4)]
    assert [c["data.num_classes"] for c in configs] == [5, 10, 5, 10]
    assert grouped.suggest("t4") == Searcher.FINISHED


def test_each_groups_searcher_learns_only_from_its_own_trials():
    grouped = GroupedSearcher(searchers(), budget=2)
    for i in range(4):
        grouped.suggest(f"t{i}")
    for i in range(4):
        grouped.on_trial_complete(f"t{i}", {"val_accuracy": 0.1 * i})
    done = [
        [t for t in s._ot_study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        for s in grouped.searchers
    ]
    assert [sorted(t.value for t in d) for d in done] == [[0.0, 0.2], [0.1, 0.30000000000000004]]


def test_save_and_restore_keep_every_groups_history(tmp_path):
    grouped = GroupedSearcher(searchers(), budget=2)
    for i in range(3):
        grouped.suggest(f"t{i}")
    grouped.on_trial_complete("t0", {"val_accuracy": 0.5})
    grouped.save(str(tmp_path / "searcher.pkl"))
    restored = GroupedSearcher(searchers(), budget=2)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored.suggested == [2, 1] and restored.owner == {"t0": 0, "t1": 1, "t2": 0}
    assert (
        restored.suggest("t3")["data.num_classes"] == 10
        and restored.suggest("t4") == Searcher.FINISHED
    )
    assert len(restored.searchers[0]._ot_study.trials) == 2


def test_trials_are_routed_to_their_groups_scheduler():
    class Trial:
        def __init__(self, classes: int) -> None:
            self.config = {"data.num_classes": classes, "scale.start": 8.0}

    schedulers = [
        ASHAScheduler(time_attr="training_iteration", max_t=4, grace_period=1) for _ in GROUPS
    ]
    grouped = GroupedScheduler(schedulers, GROUPS)
    assert grouped._of(Trial(10)) is schedulers[1] and grouped._of(Trial(5)) is schedulers[0]
    assert group_of({"data.num_classes": 10}, GROUPS) == 1 and group_of({}, [{}]) == 0
