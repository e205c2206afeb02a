"""The seed tables beside ours (loss-combos, head-tail) and the proxy-cosine figure."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from synthetic_study import artifact_location

from analysis.figures import proxy_cosine_figure
from analysis.load import load_trials
from analysis.reference import PAPER_TABLES, paper_tables_for
from analysis.report import paper_beside_ours, write_report


def test_seed_000_001_and_003_tables_hold_the_published_numbers():
    (combos,) = paper_tables_for("loss-combos")
    cols = combos.columns()
    assert cols["test accuracy (%)"] == {
        "CE": 95.00,
        "Center": 95.32,
        "PC": 95.21,
        "CE + CoE": 95.19,
        "Center + CoE": 95.26,
        "PC + CoE": 95.36,
    }
    assert cols["Silhouette"] == {
        "CE": 0.3773,
        "Center": 0.7896,
        "PC": 0.7877,
        "CE + CoE": 0.4653,
        "Center + CoE": 0.7928,
        "PC + CoE": 0.7924,
    }
    assert [cols["Calinski-Harabasz"][k] for k in ("CE", "Center", "PC", "PC + CoE")] == [
        2666.85,
        15588.98,
        15218.74,
        14280.56,
    ]
    assert combos.cells["PC + CoE"] == {"search.output": "complement_ce", "search.feature": "pc"}
    assert combos.baseline == "CE"
    (lt,) = PAPER_TABLES["head-tail"]
    cols = lt.columns()
    # every (PC, Comp) assignment of the grid
    assert len(lt.cells) == 16 and lt.baseline == "CE only"
    assert {k: v for k, v in cols["test accuracy (%)"].items() if v is not None} == {
        "CE only": 41.14,
        "PC on head + Comp on tail": 43.61,
        "PC on all classes": 40.35,
    }
    assert (
        cols["head accuracy (%)"]["PC on head + Comp on tail"] == 69.95
        and cols["head accuracy (%)"]["PC on all classes"] is None
    )
    assert (
        cols["tail accuracy (%)"]["CE only"] == 25.95
        and cols["tail accuracy (%)"]["PC on head + Comp on tail"] == 29.47
    )
    assert lt.cells["PC on head + Comp on tail"] == {
        "search.pc_on": "head",
        "search.complement_on": "tail",
    }
    assert lt.cells["CE only"] == {"search.pc_on": "none", "search.complement_on": "none"}
    assert lt.cells["PC on all classes"] == {"search.pc_on": "all", "search.complement_on": "none"}
    (basics,) = PAPER_TABLES["basics"]
    # the seed states no numbers
    assert basics.baseline == "CE + softmax" and set(basics.rows.values()) == {None}
    assert PAPER_TABLES["scale-schedules"][0].rows["20"] == 0.535  # the older table is untouched


def _combos_trials() -> pd.DataFrame:
    rows = [  # (output, feature, seed, status, val, test acc, silhouette, CH)
        ("ce", "none", 0, "FINISHED", 0.80, 0.90, 0.30, 2000.0),
        ("ce", "none", 1, "FINISHED", 0.85, 0.92, 0.35, 2100.0),
        ("ce", "none", 1, "FAILED", 0.99, 0.99, 0.99, 9999.0),  # failed: never counted
        ("complement_ce", "pc", 0, "FINISHED", 0.70, 0.93, 0.70, 12000.0),
        ("complement_ce", "pc", 1, "FINISHED", 0.70, 0.96, 0.72, 12500.0),
        # seed 2 has no CE partner
        ("complement_ce", "pc", 2, "FINISHED", 0.70, 0.99, 0.74, 13000.0),
    ]
    return pd.DataFrame(
        [
            {
                "run_id": f"r{i}",
                "experiment": "combos",
                "status": st,
                "start_time": pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=i),
                "param:search.output": o,
                "param:search.feature": f,
                "param:train.seed": seed,
                "metric:val_accuracy": v,
                "metric:test_accuracy": a,
                "metric:test_silhouette": s,
                "metric:test_calinski_harabasz": ch,
                "tag:trial_status": "finished",
                "tag:preset": "loss-combos",
                "tag:size": "smoke",
                "tag:metric": "val_accuracy",
                "tag:mode": "max",
            }
            for i, (o, f, seed, st, v, a, s, ch) in enumerate(rows)
        ]
    )


def test_ours_beside_the_paper_is_the_mean_over_paired_seeds_with_contrasts_against_the_baseline():
    (combos,) = PAPER_TABLES["loss-combos"]
    result = paper_beside_ours(_combos_trials(), combos, "val_accuracy", "max")
    table = pd.DataFrame(result["beside"]).set_index("losses")
    assert list(table.index) == ["CE", "Center", "PC", "CE + CoE", "Center + CoE", "PC + CoE"]
    assert table.loc["CE", "seeds"] == 2 and table.loc["CE", "trials"] == 3
    assert table.loc["CE", "test accuracy (%) (ours)"] == pytest.approx(91.0)
    assert (
        table.loc["CE", "test accuracy (%) (ours) low"]
        < 91.0
        < table.loc["CE", "test accuracy (%) (ours) high"]
    )
    assert table.loc["CE", "test accuracy (%) (paper)"] == 95.00
    assert (
        table.loc["PC + CoE", "test accuracy (%) (ours)"] == pytest.approx(96.0)
        and table.loc["PC + CoE", "seeds"] == 3
    )
    assert table.loc["Center", "seeds"] == 0 and pd.isna(
        table.loc["Center", "test accuracy (%) (ours)"]
    )
    contrasts = {(c["contrast"], c["metric"]): c for c in result["contrasts"]}
    pc = contrasts[("PC + CoE - CE", "test accuracy (%)")]
    # seed 2 has no CE run to pair with
    assert pc["paper"] == pytest.approx(0.36) and pc["pairs"] == 2
    assert pc["ours"] == pytest.approx(3.5) and pc["low"] < 3.5 < pc["high"]
    # both seeds won: the exact interval still reaches far below one half
    assert pc["p_improve"] == 1.0 and pc["wins"] == 2 and pc["p_low"] == pytest.approx(0.025**0.5)
    assert contrasts[("PC + CoE - CE", "Silhouette")]["paper"] == pytest.approx(0.7924 - 0.3773)
    assert result["resolution"]["test accuracy (%)"]["n"] == 2
    assert (
        paper_beside_ours(
            _combos_trials(), PAPER_TABLES["scale-schedules"][0], "val_accuracy", "max"
        )
        is None
    )


def test_the_report_prints_ours_beside_the_paper_with_intervals_contrasts_and_resolution(tmp_path):
    report = write_report(_combos_trials(), tmp_path, figures=False)
    (paper,) = report["studies"][0]["paper_tables"]
    assert paper["source"] == "seed 000, Table 1" and paper["baseline"] == "CE"
    data = json.loads(
        (tmp_path / "report.json").read_text(), parse_constant=lambda c: pytest.fail(c)
    )
    assert data["studies"][0]["paper_tables"][0]["beside"][0][
        "test accuracy (%) (ours)"
    ] == pytest.approx(91.0)
    # the preset names what departs from the paper
    assert "paired seeds" in data["studies"][0]["departures"]
    for name in ("report.md", "report.html"):
        text = (tmp_path / name).read_text()
        assert (
            "test accuracy (%) ours" in text
            and "test accuracy (%) paper" in text
            and "PC + CoE - CE" in text
        )
        assert ("P(A&gt;B)" in text or "P(A>B)" in text) and "Clopper-Pearson" in text
        assert "seeds won" in text and "2 of 2" in text
        assert "Resolution of this design" in text and "Departures from the paper" in text
        # the resolution quoted is the paired t test's (2 seeds: 11.5 sd), not 2.8 sd / sqrt(2)
        res = paper["resolution"]["test accuracy (%)"]
        assert "the paired t test (1 degree of freedom) detects" in text
        assert f"is {res['t']:.3g};" in text and res["t"] > 5 * res["normal"]


def test_a_table_whose_seeds_agree_exactly_reports_no_interval_and_an_unknown_resolution(tmp_path):
    """Equal test accuracies on both seeds (small test sets give few distinct values): no interval of
    width 0, a note in its place in every format, and no resolution from a contrast sd of 0."""
    trials = _combos_trials()
    trials["metric:test_accuracy"] = trials["param:search.output"].map(
        {"ce": 0.90, "complement_ce": 0.95}
    )
    report = write_report(trials, tmp_path, figures=False)
    (paper,) = report["studies"][0]["paper_tables"]
    ce = next(r for r in paper["beside"] if r["losses"] == "CE")
    assert ce["test accuracy (%) (ours) low"] is None
    assert ce["test accuracy (%) (ours) note"] == "no spread in 2 runs: no interval"
    pc = next(c for c in paper["contrasts"] if c["contrast"] == "PC + CoE - CE")
    assert pc["low"] is None and pc["ours"] == pytest.approx(5.0)
    assert paper["resolution"]["test accuracy (%)"]["t"] is None
    json.loads((tmp_path / "report.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    for name in ("report.md", "report.html"):
        text = (tmp_path / name).read_text()
        assert "no spread in 2 runs: no interval" in text
        assert (
            "Resolution of this design: unknown for test accuracy (%); no contrast varied" in text
        )
        assert "nan" not in text.lower().replace("nanmean", "")


def test_the_proxy_cosine_figure_is_drawn_from_logged_histories(tmp_path, small_store):
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'proxy.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("proxies", artifact_location=artifact_location(uri, "proxies"))
    for i, scale in enumerate((20.0, 6.5)):
        run = client.create_run(exp)
        metrics = [Metric("proxy_cos_mean", -0.1 * e / (i + 1), 0, e) for e in range(4)]
        metrics += [Metric("proxy_cos_var", 0.01 * (e + 1), 0, e) for e in range(4)]
        metrics += [Metric("val_accuracy", 0.5 + 0.1 * i, 0, 3)]
        client.log_batch(run.info.run_id, metrics=metrics)
        client.log_param(run.info.run_id, "scale.start", str(scale))
        client.set_terminated(run.info.run_id, "FINISHED")
    trials = load_trials(uri)
    paths = proxy_cosine_figure(
        trials, tmp_path / "fig" / "proxy_cosine", "val_accuracy", "max", uri
    )
    png, svg = paths
    assert (
        png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        and png.stat().st_size > 1000
        and svg.stat().st_size > 0
    )
    # a store where no trial logged proxy_cos_mean draws nothing
    none = proxy_cosine_figure(
        load_trials(small_store["uri"]),
        tmp_path / "none",
        "val_accuracy",
        "max",
        small_store["uri"],
    )
    assert none == [] and not (tmp_path / "none.png").exists()


def test_proxy_cosine_info_gives_mean_and_one_std_band():
    from analysis.summaries import proxy_cosine_info

    trials = pd.DataFrame({"run_id": ["a", "b"], "param:scale.start": [20.0, math.nan]})
    means = pd.DataFrame({"run_id": ["a", "a"], "step": [0, 1], "value": [0.0, -0.1]})
    variances = pd.DataFrame({"run_id": ["a", "a"], "step": [0, 1], "value": [0.04, 0.01]})
    (curve,) = proxy_cosine_info(trials, means, variances)["curves"]  # b logged nothing
    assert curve["label"].startswith("s = 20") and curve["epoch"] == [0.0, 1.0]
    assert curve["high"] == pytest.approx([0.2, 0.0]) and curve["low"] == pytest.approx(
        [-0.2, -0.2]
    )
