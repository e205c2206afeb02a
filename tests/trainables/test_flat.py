"""The flat-value codec: text from the command line, YAML or MLflow params read back as the declared
types, and written so that it reads back the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest

from analysis.load import _typed as typed_column
from trainables.flat import ConfigError, as_text, guess, scalar, typed


@pytest.mark.parametrize(
    "hint, value, expected",
    [
        (bool, "False", False),
        (bool, "1", True),
        (bool, 0, False),
        (int, "7", 7),
        (int, 7.0, 7),
        (float, "1e-3", 0.001),
        (float, 2, 2.0),
        (str, "adam", "adam"),
        (tuple[int, ...], "20,40", (20, 40)),
        (tuple[int, ...], 5, (5,)),  # YAML's `optim.lr_milestones: 5`
        (tuple[str, ...], ["lr"], ("lr",)),
        (Mapping[str, Any], {"a": 1}, {"a": 1}),
    ],
)
def test_typed_converts_to_the_declared_type(hint, value, expected):
    got = typed(hint, "k", value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "hint, value, named",
    [
        (bool, "maybe", "expected bool"),
        (int, 2.5, "expected int"),
        (int, True, "expected int"),
        (float, "fast", "expected float"),
        (str, 3, "expected str"),
        (tuple[int, ...], True, "expected a list"),
        (Mapping[str, Any], [1], "expected a mapping"),
    ],
)
def test_typed_names_the_key_the_value_and_the_type(hint, value, named):
    with pytest.raises(ConfigError) as info:
        typed(hint, "k", value)
    assert str(info.value) == f"k={value!r} is invalid: {named}"


def test_text_reads_back_as_the_value_it_was_written_from():
    for value in (True, False, 3, 0.05, 1e-4, "head"):
        assert guess(as_text(value)) == value and type(guess(as_text(value))) is type(value)
    assert typed(tuple[int, ...], "k", as_text((20, 40))) == (20, 40)
    assert scalar("k", "0.35") == 0.35
    with pytest.raises(ConfigError, match="expected a number, a string or a boolean"):
        scalar("k", [1, 2])


def test_recorded_param_columns_get_numbers_only_when_every_value_is_one():
    assert typed_column(pd.Series(["3", "5", None])).tolist()[:2] == [3.0, 5.0]
    assert typed_column(pd.Series(["3", "5"])).dtype.kind == "i"
    assert typed_column(pd.Series(["0.1", "2"])).dtype.kind == "f"
    booleans = pd.Series(["True", "False"])
    assert typed_column(booleans).tolist() == ["True", "False"]  # booleans stay text
    assert typed_column(pd.Series(["3", "adam"])).tolist() == ["3", "adam"]
