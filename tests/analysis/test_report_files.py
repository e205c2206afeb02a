"""write_report: Markdown, self-contained HTML and strict JSON that hold the best trial and the fit."""

from __future__ import annotations

import json

import pytest

from analysis.load import load_trials
from analysis.reference import PAPER_TABLES
from analysis.report import write_report


def _strict(text: str) -> dict:
    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


@pytest.fixture(scope="module")
def written(small_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    trials = load_trials(small_store["uri"])
    report = write_report(trials, out, tracking_uri=small_store["uri"], n_boot=200)
    return out, report, trials


def test_the_three_files_hold_the_best_trial_and_its_replay_command(written, small_store):
    out, report, trials = written
    finished = trials[trials["status"] == "FINISHED"]
    best = finished.loc[finished["metric:val_accuracy"].idxmax(), "run_id"]
    data = _strict((out / "report.json").read_text())
    (study,) = data["studies"]
    assert study["metric"] == "val_accuracy" and study["mode"] == "max"  # from the study's tags
    assert study["best"]["run_id"] == best
    replay = f"study replay {best} --tracking-uri {small_store['uri']}"
    assert study["best"]["replay"] == replay
    assert study["status_counts"] == {"FINISHED": 18, "FAILED": 1, "RUNNING": 1}
    # C=10 has no finished trial
    assert [row["num_classes"] for row in study["per_class_count"]] == [5, 20, 100]
    assert len(study["top"]) == 10 and study["top"][0]["run_id"] == best
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert best in text and replay in text and "Optimum scale vs class count" in text


def test_the_fit_and_the_importances_are_reported(written):
    out, report, _ = written
    trend = report["studies"][0]["trend"]
    # the C=10 trials failed or still run
    assert [o["num_classes"] for o in trend["optima"]] == [5, 20, 100]
    fit = trend["fit"]
    assert fit["n_points"] == 3 and fit["a_ci"][0] < fit["a"] < fit["a_ci"][1]
    assert "a = " in (out / "report.md").read_text()
    assert report["studies"][0]["importances"]["importances"]
    assert report["paper_tables"]["scale-schedules"][0]["rows"]["20"] == 0.535
    assert set(PAPER_TABLES) == set(report["paper_tables"])


def test_html_is_self_contained_and_markdown_links_the_figures(written):
    out, report, _ = written
    figures = report["studies"][0]["figures"]
    assert {"history", "importance", "scale_curves", "trend", "schedules"} <= set(figures)
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count('src="data:image/png;base64,') == len(
        figures
    )
    assert 'src="figures/' not in page
    md = (out / "report.md").read_text()
    for path in figures.values():
        assert (out / path).stat().st_size > 0 and (out / path).with_suffix(
            ".svg"
        ).stat().st_size > 0
        assert f"]({path})" in md


def test_a_study_without_a_finished_trial_still_reports(tmp_path, small_store):
    trials = load_trials(small_store["uri"])
    trials = trials[trials["status"] != "FINISHED"]
    report = write_report(trials, tmp_path, figures=False)
    assert report["studies"][0]["best"] is None
    assert "No finished trial reported val_accuracy" in (tmp_path / "report.md").read_text()
    assert "No finished trial" in (tmp_path / "report.html").read_text()
