"""The seed tables beside ours (loss-combos, head-tail) and the proxy-cosine figure."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis.figures import proxy_cosine_figure
from analysis.load import load_trials
from analysis.reference import PAPER_TABLES, paper_tables_for
from analysis.report import paper_beside_ours, write_report


def test_seed_000_and_001_tables_hold_the_published_numbers():
    (combos,) = paper_tables_for("loss-combos")
    cols = combos.columns()
    assert cols["test accuracy (%)"] == {"CE": 95.00, "Center": 95.32, "PC": 95.21,
                                         "CE + CoE": 95.19, "Center + CoE": 95.26, "PC + CoE": 95.36}
    assert cols["Silhouette"] == {"CE": 0.377, "Center": 0.790, "PC": 0.788,
                                  "CE + CoE": None, "Center + CoE": None, "PC + CoE": None}
    assert [cols["Calinski-Harabasz"][k] for k in ("CE", "Center", "PC")] == [2667, 15589, 15219]
    assert combos.cells["PC + CoE"] == {"search.output": "complement_ce", "search.feature": "pc"}
    (lt,) = PAPER_TABLES["head-tail"]
    cols = lt.columns()
    assert cols["test accuracy (%)"] == {"CE only": 41.14, "PC on head + Comp on tail": 43.61, "PC on all classes": 40.35}
    assert cols["head accuracy (%)"] == {"CE only": 69.34, "PC on head + Comp on tail": 69.95, "PC on all classes": None}
    assert cols["tail accuracy (%)"] == {"CE only": 25.95, "PC on head + Comp on tail": 29.47, "PC on all classes": None}
    assert lt.cells["PC on head + Comp on tail"] == {"search.pc_on": "head", "search.complement_on": "tail"}
    assert PAPER_TABLES["scale-schedules"][0].rows["20"] == 0.535  # the older table is untouched


def _combos_trials() -> pd.DataFrame:
    rows = [  # (output, feature, status, val, test acc, silhouette, CH)
        ("ce", "none", "FINISHED", 0.80, 0.90, 0.30, 2000.0),
        ("ce", "none", "FINISHED", 0.85, 0.91, 0.35, 2100.0),  # best of the CE cell
        ("ce", "none", "FAILED", 0.99, 0.99, 0.99, 9999.0),  # failed: never picked
        ("complement_ce", "pc", "FINISHED", 0.70, 0.93, 0.70, 12000.0),
    ]
    return pd.DataFrame([{
        "run_id": f"r{i}", "experiment": "combos", "status": st, "start_time": pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=i),
        "param:search.output": o, "param:search.feature": f, "metric:val_accuracy": v, "metric:test_accuracy": a,
        "metric:test_silhouette": s, "metric:test_calinski_harabasz": ch, "tag:trial_status": "finished",
        "tag:preset": "loss-combos", "tag:metric": "val_accuracy", "tag:mode": "max",
    } for i, (o, f, st, v, a, s, ch) in enumerate(rows)])


def test_ours_beside_the_paper_takes_the_best_trial_of_each_cell():
    (combos,) = PAPER_TABLES["loss-combos"]
    table = paper_beside_ours(_combos_trials(), combos, "val_accuracy", "max").set_index("losses")
    assert list(table.index) == ["CE", "Center", "PC", "CE + CoE", "Center + CoE", "PC + CoE"]
    assert table.loc["CE", "run_id"] == "r1" and table.loc["CE", "trials"] == 3
    assert table.loc["CE", "test accuracy (%) (ours)"] == pytest.approx(91.0)
    assert table.loc["CE", "test accuracy (%) (paper)"] == 95.00
    assert table.loc["CE", "Silhouette (ours)"] == pytest.approx(0.35)
    assert table.loc["CE", "Calinski-Harabasz (ours)"] == pytest.approx(2100.0)
    assert table.loc["PC + CoE", "run_id"] == "r3" and table.loc["PC + CoE", "test accuracy (%) (ours)"] == pytest.approx(93.0)
    assert table.loc["Center", "trials"] == 0 and pd.isna(table.loc["Center", "run_id"])
    assert pd.isna(table.loc["Center", "test accuracy (%) (ours)"])
    # by the minimum instead, the worse finished trial of the CE cell
    low = paper_beside_ours(_combos_trials(), combos, "val_accuracy", "min").set_index("losses")
    assert low.loc["CE", "run_id"] == "r0"
    assert paper_beside_ours(_combos_trials(), PAPER_TABLES["scale-schedules"][0], "val_accuracy", "max") is None


def test_the_report_prints_ours_beside_the_paper(tmp_path):
    report = write_report(_combos_trials(), tmp_path, figures=False)
    (paper,) = report["studies"][0]["paper_tables"]
    assert paper["source"] == "seed 000, Table 1" and paper["beside"][0]["run_id"] == "r1"
    data = json.loads((tmp_path / "report.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert data["studies"][0]["paper_tables"][0]["beside"][0]["test accuracy (%) (ours)"] == pytest.approx(91.0)
    for name in ("report.md", "report.html"):
        text = (tmp_path / name).read_text()
        assert "test accuracy (%) (ours)" in text and "test accuracy (%) (paper)" in text and "PC + CoE" in text


def test_the_proxy_cosine_figure_is_drawn_from_logged_histories(tmp_path, small_store):
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'proxy.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("proxies")
    rows = []
    for i, scale in enumerate((20.0, 6.5)):
        run = client.create_run(exp)
        metrics = [Metric("proxy_cos_mean", -0.1 * e / (i + 1), 0, e) for e in range(4)]
        metrics += [Metric("proxy_cos_var", 0.01 * (e + 1), 0, e) for e in range(4)]
        metrics += [Metric("val_accuracy", 0.5 + 0.1 * i, 0, 3)]
        client.log_batch(run.info.run_id, metrics=metrics)
        client.log_param(run.info.run_id, "scale.start", str(scale))
        client.set_terminated(run.info.run_id, "FINISHED")
    trials = load_trials(uri)
    paths = proxy_cosine_figure(trials, tmp_path / "fig" / "proxy_cosine", "val_accuracy", "max", uri)
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000 and svg.stat().st_size > 0
    # a store where no trial logged proxy_cos_mean draws nothing
    none = proxy_cosine_figure(load_trials(small_store["uri"]), tmp_path / "none", "val_accuracy", "max", small_store["uri"])
    assert none == [] and not (tmp_path / "none.png").exists()


def test_proxy_cosine_info_gives_mean_and_one_std_band():
    from analysis.summaries import proxy_cosine_info

    trials = pd.DataFrame({"run_id": ["a", "b"], "param:scale.start": [20.0, math.nan]})
    means = pd.DataFrame({"run_id": ["a", "a"], "step": [0, 1], "value": [0.0, -0.1]})
    variances = pd.DataFrame({"run_id": ["a", "a"], "step": [0, 1], "value": [0.04, 0.01]})
    (curve,) = proxy_cosine_info(trials, means, variances)["curves"]  # b logged nothing
    assert curve["label"].startswith("s = 20") and curve["epoch"] == [0.0, 1.0]
    assert curve["high"] == pytest.approx([0.2, 0.0]) and curve["low"] == pytest.approx([-0.2, -0.2])
