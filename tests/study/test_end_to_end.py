"""`study run --preset smoke` through real Ray Tune, Optuna and an MLflow sqlite store, then `study report`."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

TRIALS = 3


@pytest.mark.slow
def test_smoke_study_records_every_trial_and_reports_the_best(study_cli, store, tmp_path):
    done = study_cli(
        "run",
        "--preset",
        "smoke",
        "--trials",
        str(TRIALS),
        "--tracking-uri",
        store,
        "--storage",
        str(tmp_path / "results"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"trials {TRIALS}/{TRIALS} done" in done.stdout
    # seconds-long trials never reach a checkpoint (60 s)
    assert not list((tmp_path / "results").rglob("trial_state.pt"))

    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("smoke-smoke")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("role") == "study"]
    trials = [r for r in runs if r.data.tags.get("role") != "study"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(trials) == TRIALS
    for run in trials:
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert run.data.tags["trial_status"] in ("finished", "stopped_early")
        assert run.data.params["data.name"] == "digits"
        assert run.data.params["loss.output"] in ("ce", "normface")
        assert "optim.lr" in run.data.params
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [m.step for m in history] == list(range(1, len(history) + 1))
        assert 0.0 <= history[-1].value <= 1.0
        assert "train_loss" in run.data.metrics
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        # the test set is evaluated once, after the last epoch
        if run.data.tags["trial_status"] == "finished":
            assert "test_accuracy" in run.data.metrics
            assert {
                "config.json",
                "per_class_recall.csv",
                "confusion_matrix.png",
                "gradcam.png",
            } <= artifacts

    # the report ranks only the trials that ran their whole budget, not those ASHA stopped early
    finished = [r for r in trials if r.data.tags["trial_status"] == "finished"]
    best = max(finished, key=lambda r: r.data.metrics["val_accuracy"])
    out = tmp_path / "report"
    reported = study_cli("report", "--tracking-uri", store, "--out", str(out))
    assert reported.returncode == 0, reported.stderr[-3000:]
    data = json.loads((out / "report.json").read_text())
    (study,) = data["studies"]
    assert study["best"]["run_id"] == best.info.run_id
    assert study["trials"] == TRIALS and len(study["top"]) == len(finished)
    assert study["best"]["candidates"] == len(finished)
    assert best.info.run_id in (out / "report.md").read_text()


@pytest.mark.slow
def test_scale_vs_classes_smoke_runs_both_stages_and_fits_the_trend(study_cli, store, tmp_path):
    """The main job's shape at smoke size, as a user runs it: a screen per C, then a window of
    scales x paired seeds per C centred on the screen's optimum; here on one seed, then a second
    added by `study resume --seeds 2` on the same windows; `study trend` fits only the estimate
    stage, both seeds' batches pooled."""
    from study.presets.scale_vs_classes import design

    plan = design("smoke")
    assert plan.seeds == (0, 1)
    results = tmp_path / "results"
    done = study_cli(
        "run",
        "--preset",
        "scale-vs-classes",
        "--size",
        "smoke",
        "--seeds",
        "1",
        "--tracking-uri",
        store,
        "--storage",
        str(results),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    folder = results / "scale-vs-classes-smoke"
    windows = json.loads((folder / "windows.json").read_text())
    assert sorted(map(int, windows)) == sorted(plan.class_counts)
    assert json.loads((folder / "estimate_batches.json").read_text()) == {"estimate": [0]}
    # validated only after the last epoch, a trial reports to Ray Tune once (each report is a
    # round trip through the driver), as its last epoch: Tune's own state of every trial says so
    last_results = [
        json.loads(metadata)["last_result"]
        for state in folder.glob("*/trials/experiment_state-*.json")
        for _, metadata in json.loads(state.read_text())["trial_data"]
    ]
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("scale-vs-classes-smoke")
    first = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if r.data.tags.get("role") != "study"
    ]
    assert len(last_results) == len(first) > len(plan.class_counts) * plan.screen_trials
    for last in last_results:
        assert last["iterations_since_restore"] == 1 and "val_accuracy" in last
        assert last["training_iteration"] == last["epoch"] > 1
    more = study_cli("resume", "scale-vs-classes-smoke", "--storage", str(results), "--seeds", "2")
    assert more.returncode == 0, more.stderr[-3000:]
    assert json.loads((folder / "windows.json").read_text()) == windows
    batches = json.loads((folder / "estimate_batches.json").read_text())
    assert batches == {"estimate": [0], "estimate.from1": [1]}

    trials = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if r.data.tags.get("role") != "study"
    ]
    assert len(trials) == len(plan.class_counts) * (plan.screen_trials + plan.estimate_trials)
    for c in plan.class_counts:
        mine = [r for r in trials if int(r.data.params["data.num_classes"]) == c]
        screen = [r for r in mine if r.data.tags["stage"] == "screen"]
        estimate = [r for r in mine if r.data.tags["stage"] == "estimate"]
        assert sorted(float(r.data.params["scale.start"]) for r in screen) == sorted(
            plan.screen_scales
        )
        assert {r.data.params["train.seed"] for r in screen} == {str(plan.screen_seed)}
        cells = {
            (float(r.data.params["scale.start"]), int(r.data.params["train.seed"]))
            for r in estimate
        }
        # every scale on every seed
        assert cells == {(s, k) for s in windows[str(c)] for k in plan.seeds}
        for r in estimate:
            # a seed is a block
            assert r.data.params["data.subset_seed"] == r.data.params["train.seed"]
            assert r.info.status == "FINISHED" and 0.0 <= r.data.metrics["val_accuracy"] <= 1.0
            # validated only after the last epoch, the trial sent its epochs in one request: all of them
            steps = [m.step for m in client.get_metric_history(r.info.run_id, "train_loss")]
            assert steps == list(range(1, int(r.data.params["train.epochs"]) + 1))
        assert all(
            int(r.data.params["train.epochs"]) < int(estimate[0].data.params["train.epochs"])
            for r in screen
        )

    trend = study_cli("trend", "--tracking-uri", store, "--out", str(tmp_path / "trend"))
    assert trend.returncode == 0, trend.stderr[-3000:]
    data = json.loads((tmp_path / "trend" / "trend.json").read_text())
    (study,) = data["trends"]
    per_c = {int(o["num_classes"]): o for o in study["optima"]}
    assert sorted(per_c) == sorted(plan.class_counts)
    for optimum in per_c.values():
        assert optimum["trials"] == plan.estimate_trials  # the screen never enters the curve
        # both batches pooled in one curve (blocks are labelled train.seed/data.subset_seed)
        assert sorted(optimum["seeds"]) == ["0/0", "1/1"]
    # both forms of the law are fitted on the same vertices, or neither (too few interior)
    assert (study["fit"] is None) == (study["power_law"] is None)
    assert ("power law s*(C) = " in trend.stdout) == (study["power_law"] is not None)
    if study["fit"] is not None:
        assert study["power_law"]["n_points"] == study["fit"]["n_points"]
        assert study["fit"]["resolution_a"] > 0 and "resolves slopes" in trend.stdout
    assert (tmp_path / "trend" / "trend.png").stat().st_size > 10_000
