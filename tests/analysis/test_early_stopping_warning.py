"""A class count whose trials a scheduler stopped early is warned about: the trials that ran their
whole budget, the only ones fitted, were selected on their early accuracy."""

from __future__ import annotations

from mlflow.tracking import MlflowClient
from synthetic_study import designed_trials, fill_store, synthetic_trials

from analysis.load import load_trials
from analysis.report import write_report
from analysis.response import class_responses
from study.cli import main


def test_only_the_class_counts_with_early_stopped_trials_carry_the_warning():
    trials = designed_trials(class_counts=(17, 33, 65), seeds=(0, 1))
    estimate = trials.index[
        (trials["tag:stage"] == "estimate") & (trials["param:data.num_classes"] == 33)
    ]
    trials.loc[estimate[:3], "tag:trial_status"] = "stopped_early"
    # a stopped screen trial selects nothing the curve uses: the screen is never fitted
    screen = trials.index[
        (trials["tag:stage"] == "screen") & (trials["param:data.num_classes"] == 17)
    ]
    trials.loc[screen[:2], "tag:trial_status"] = "stopped_early"
    responses, excluded = class_responses(trials)
    warned = {r.num_classes: [w for w in r.warnings if "stopped early" in w] for r in responses}
    assert warned[17] == [] and warned[65] == []
    (warning,) = warned[33]
    assert warning.startswith("3 of the 14 trials at this class count were stopped early")
    assert "selection on their early accuracy" in warning and "may be biased" in warning
    assert next(r for r in responses if r.num_classes == 33).trials == 11


def test_study_trend_and_the_report_show_the_warning_read_from_a_real_store(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ids = fill_store(uri, synthetic_trials(class_counts=(5, 20, 100), per_class=6, seed=1))
    client = MlflowClient(tracking_uri=uri)
    for synthetic in ("run-20-0", "run-20-1"):  # what study.callbacks records for a stopped trial
        client.set_tag(ids[synthetic], "trial_status", "stopped_early")
    expected = "2 of the 6 trials at this class count were stopped early by the scheduler"
    out = tmp_path / "out"
    assert main(["trend", "--tracking-uri", uri, "--out", str(out), "--bootstrap", "20"]) == 0
    printed = capsys.readouterr().out.splitlines()
    (warning,) = [i for i, line in enumerate(printed) if "stopped early" in line]
    assert printed[warning].strip().startswith(f"warning: {expected}")
    row = next(i for i, line in enumerate(printed) if line.split()[:1] == ["20"])
    assert row < warning < next(i for i, line in enumerate(printed) if line.split()[:1] == ["100"])
    write_report(load_trials(uri), tmp_path / "report", figures=False, n_boot=20)
    for name in ("report.md", "report.html"):
        text = (tmp_path / "report" / name).read_text()
        assert f"Warning at C = 20: {expected}" in text and "Warning at C = 5: 2 of" not in text
