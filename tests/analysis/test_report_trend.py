"""The report's scale-trend section: what its per-C table says about each fitted vertex."""

from __future__ import annotations

import math
import re

import pytest
from synthetic_study import designed_trials

from analysis.render import html, markdown
from analysis.report import json_safe, study_summary


@pytest.fixture(scope="module")
def asymmetric():
    """A two-stage study whose asymmetric peaks the split peak fits and the quadratic does not:
    its JSON summary, as write_report stores it."""
    trials = designed_trials(seed=3, asymmetry=0.4)
    summary, _ = study_summary(trials, "designed", "val_accuracy", "max", n_boot=20)
    return json_safe(summary)


def _markdown_rows(text: str, first: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose first header is ``first``, as header -> cell."""
    lines = text.splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(rf"\|\s*{re.escape(first)}\s*\|", line)
    )
    header = [h.strip() for h in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def test_the_optima_table_gives_the_fitted_models_own_lack_of_fit_p(asymmetric):
    """The p beside "model = split" is the split peak's test; the quadratic's, a test of another curve,
    stands in its own labelled column (they differ here, so a swap would show)."""
    optima = {o["num_classes"]: o for o in asymmetric["trend"]["optima"]}
    assert all(o["model"] == "split" for o in optima.values())
    assert any(
        not math.isclose(o["lack_of_fit_p_model"], o["lack_of_fit_p"], rel_tol=0.2)
        for o in optima.values()
    ), "the two tests agree everywhere: the check could not tell them apart"
    text = markdown({"studies": [asymmetric]})
    rows = _markdown_rows(text, "C")
    assert [int(r["C"]) for r in rows] == sorted(optima)
    for row in rows:
        o = optima[int(row["C"])]
        assert float(row["model's lack-of-fit p"]) == pytest.approx(
            o["lack_of_fit_p_model"], rel=0.05
        )
        assert float(row["quadratic's lack-of-fit p"]) == pytest.approx(
            o["lack_of_fit_p"], rel=0.05
        )
        assert o["interior"] or row["s*"] == "–"  # no vertex: a dash, never "nan"
        assert "nan" not in " ".join(row.values())
    page = html({"studies": [asymmetric]}, ".")
    assert re.search(r"<th>model(&#x27;|')s lack-of-fit p</th>", page)
    for o in optima.values():
        assert f"<td>{o['lack_of_fit_p_model']:.2g}</td>" in page
