"""Seed reproductions end to end: a real loss-combos study on paired seeds, then `study report`; and the
Pareto report of a multi-objective (CAMRI) study read from a real MLflow store."""

from __future__ import annotations

import json

import pytest
from synthetic_study import artifact_location

from analysis.load import load_trials
from analysis.report import write_report
from analysis.summaries import non_dominated, pareto_info


@pytest.mark.slow
def test_loss_combos_on_paired_seeds_fills_the_paper_table_with_means_intervals_and_contrasts(
    loss_combos_study, study_cli, tmp_path
):
    """The loss-combos preset's smoke study (on fewer, smaller images: tests/conftest.py), run by
    `study run`, every cell on both paired seeds; then `study report` reads its store."""
    uri, _ = loss_combos_study
    done = study_cli(
        "report",
        "--tracking-uri",
        uri,
        "--out",
        str(tmp_path / "reports"),
        "--no-figures",
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    (study,) = report["studies"]
    (paper,) = study["paper_tables"]
    assert paper["baseline"] == "CE" and len(paper["beside"]) == 6
    for row in paper["beside"]:  # every cell: two seeds, our mean and its interval
        assert row["seeds"] == 2 and row["trials"] == 2, row
        for name in ("test accuracy (%)", "Silhouette", "Calinski-Harabasz"):
            ours, low, high = (row[f"{name} (ours){end}"] for end in ("", " low", " high"))
            assert ours is not None, (row["losses"], name)
            # two equal seeds (a small test set) have no interval, and say so
            assert (
                low <= ours <= high
                if low is not None
                else "no spread" in row[f"{name} (ours) note"]
            )
    accuracy = [c for c in paper["contrasts"] if c["metric"] == "test accuracy (%)"]
    assert [c["contrast"] for c in accuracy] == [
        f"{s} - CE" for s in ("Center", "PC", "CE + CoE", "Center + CoE", "PC + CoE")
    ]
    for c in accuracy:
        assert c["pairs"] == 2 and c["paper"] is not None
        assert (
            c["low"] <= c["ours"] <= c["high"] if c["low"] is not None else "no spread" in c["note"]
        )
        assert c["wins"] + c["losses"] + c["ties"] == 2
        if c["ties"] < 2:  # P(A>B) over the untied seeds, with its exact interval
            assert 0.0 <= c["p_low"] <= c["p_improve"] <= c["p_high"] <= 1.0
    assert paper["resolution"]["test accuracy (%)"]["n"] == 2
    seeds = {(r["cell"], r["seed"]) for r in paper["per_seed"]}
    # every cell on the same seeds
    assert seeds == {(cell, s) for cell in paper["cells"] for s in (0, 1)}
    text = (tmp_path / "reports" / "report.md").read_text()
    assert (
        "PC + CoE - CE" in text
        and "Resolution of this design" in text
        and "Departures from the paper" in text
    )


def _camri_store(uri: str) -> list[str]:
    """A CAMRI study as the tool records it: trials of two arms with both objectives, tagged as multi-objective."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(
        "camri-smoke", artifact_location=artifact_location(uri, "camri-smoke")
    )
    tags = {
        "preset": "camri",
        "size": "smoke",
        "metric": "val_accuracy,val_important_class_recall",
        "mode": "max,max",
        "trial_status": "finished",
    }
    points = [  # (arm, margin, accuracy, important-class recall)
        ("camri", 0.1, 0.90, 0.60),
        ("camri", 0.5, 0.85, 0.80),
        ("camri", 0.9, 0.70, 0.95),  # the front
        ("camri", 0.3, 0.84, 0.59),
        ("ce", None, 0.88, 0.55),
        ("ce", None, 0.87, 0.50),
    ]
    ids = []
    for arm, margin, acc, recall in points:
        run = client.create_run(exp, tags=tags)
        client.log_param(run.info.run_id, "loss.output", arm)
        if margin is not None:
            client.log_param(run.info.run_id, "loss.params.margin_rad", str(margin))
        for name, value in (
            ("val_accuracy", acc),
            ("val_important_class_recall", recall),
            ("test_accuracy", acc - 0.01),
        ):
            client.log_metric(run.info.run_id, name, value)
        client.set_terminated(run.info.run_id, "FINISHED")
        ids.append(run.info.run_id)
    return ids


def test_a_multi_objective_report_shows_the_pareto_front_and_plot_and_ranks_no_single_best(
    tmp_path,
):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ids = _camri_store(uri)
    report = write_report(load_trials(uri), tmp_path / "out", tracking_uri=uri)
    (study,) = report["studies"]
    assert study["best"] is None and study["top"] == []  # not ranked by the first objective
    front = study["pareto"]["front"]
    # the recall-heavy trial is on the front too
    assert {p["run_id"] for p in front} == set(ids[:3])
    assert [p["values"]["val_accuracy"] for p in front] == [0.90, 0.85, 0.70]
    assert front[0]["params"]["loss.params.margin_rad"] == pytest.approx(0.1) and front[0][
        "replay"
    ].startswith("study replay")
    arms = study["pareto"]["arms"]
    # no baseline tag: both arms are the search's choices, described without an interval
    assert arms["ce"]["trials"] == 2 and arms["ce"]["kind"] == "searched"
    assert arms["ce"]["val_accuracy"] == {
        "n": 2,
        "median": pytest.approx(0.875),
        "min": 0.87,
        "max": 0.88,
    }
    png = tmp_path / "out" / study["figures"]["pareto"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    # points, front line and markers drawn
    assert png.with_suffix(".svg").read_text().count("<path") > 6
    text = (tmp_path / "out" / "report.md").read_text()
    assert (
        "Pareto front of val_accuracy vs val_important_class_recall" in text
        and "Best trial" not in text
    )
    assert "Departures from the paper" in text


def test_non_dominated_keeps_exactly_the_trials_nothing_beats_in_every_objective():
    import numpy as np

    values = np.array([[0.9, 0.6], [0.85, 0.8], [0.7, 0.95], [0.84, 0.59], [0.9, 0.6], [0.5, 0.5]])
    # equal points both stay
    assert non_dominated(values).tolist() == [True, True, True, False, True, False]
    # a "min" objective flips its sign
    import pandas as pd

    trials = pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "status": "FINISHED",
            "metric:acc": [0.9, 0.8, 0.7],
            "metric:loss": [0.5, 0.2, 0.3],
        }
    )
    info = pareto_info(trials, ["acc", "loss"], ["max", "min"])
    assert {p["run_id"] for p in info["front"]} == {"a", "b"}
