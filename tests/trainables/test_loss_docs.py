"""The loss registry is the one list of losses: the documented list (docs/training.md) and the
reference tests follow it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from trainables.losses import LOSSES, margin_of

ROOT = Path(__file__).resolve().parents[2]


def readme_losses_bullet() -> str:
    """The "**Losses**" bullet of docs/training.md ("What a trial can train")."""
    section = (
        ROOT.joinpath("docs", "training.md").read_text().split("# What a trial can train", 1)[1]
    )
    bullet = section.split("- **Losses**", 1)[1]
    return bullet.split("\n- **", 1)[0]


def test_the_readme_lists_exactly_the_registered_losses():
    names = set(re.findall(r"`([a-z0-9_]+)`", readme_losses_bullet()))
    parameters = {p for n in LOSSES for p in inspect.signature(LOSSES.get(n)).parameters} - {
        "num_classes",
        "embedding_dim",
    }
    registered = set(LOSSES.names())
    assert registered - names == set(), "registered losses missing from docs/training.md's list"
    assert names - registered - parameters == set(), (
        "docs/training.md lists losses that are not registered"
    )
    margins = {margin_of(n).param for n in LOSSES if margin_of(n) is not None}
    assert margins <= names, "docs/training.md names each margin parameter"


def test_every_loss_has_a_reference_test():
    """A loss is added with its reference test: test_loss_reference.py builds it by name
    (``make(name)``, ``build_loss(name)``, or as an objective's ``output=name``)."""
    source = ROOT.joinpath("tests", "trainables", "test_loss_reference.py").read_text()
    built = set(re.findall(r"""(?:make\(|build_loss\(|output=)\s*["']([a-z0-9_]+)["']""", source))
    assert set(LOSSES.names()) - built == set()
