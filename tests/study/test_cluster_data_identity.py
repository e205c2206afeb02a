"""Data identity: each trial's fingerprint of the data it loaded, and a study that stops when two
trials of one data config saw different data (e.g. nodes with different fonts rendering glyphs)."""

from __future__ import annotations

import pytest

from study.data_identity import DataIdentity
from study.relay import RelayStopper, register
from trainables.config import TrialConfig
from trainables.data.fingerprint import data_key, dataset_fingerprint, digest_files

GLYPHS = {
    "data.name": "glyphs",
    "data.num_classes": 5,
    "data.image_size": 16,
    "data.max_per_class": 20,
}


def result(key: str, fingerprint: str, node: str) -> dict:
    return {"data_key": key, "data_fingerprint": fingerprint, "node_ip": node}


def test_one_data_config_with_one_fingerprint_goes_on():
    identity = DataIdentity()
    assert not identity("t1", result("k5", "aaa", "10.0.0.1"))
    assert not identity("t2", result("k5", "aaa", "10.0.0.2"))
    assert not identity("t3", result("k10", "bbb", "10.0.0.2"))  # another class count: other data
    assert not identity("t4", {"val_accuracy": 0.5})  # a result without the keys (a failed trial's)
    assert not identity.stop_all() and identity.conflict == ""


def test_a_second_fingerprint_for_one_data_config_stops_the_study_and_says_where():
    identity = DataIdentity()
    identity("t1", result("k5", "aaa", "10.0.0.1"))
    assert identity("t2", result("k5", "bbb", "10.0.0.2"))
    assert identity.stop_all()
    for part in (
        "trial t1 on node 10.0.0.1",
        "aaa",
        "trial t2 on node 10.0.0.2",
        "bbb",
        "same fonts",
        "data.sources",
    ):
        assert part in identity.conflict
    assert "\n" not in identity.conflict


def test_the_run_configs_stopper_reaches_this_drivers_check():
    identity, stopper = DataIdentity(), RelayStopper("identity-test")
    register("identity-test", [], identity)
    stopper("t1", result("k", "aaa", "n1"))
    assert stopper("t2", result("k", "bbb", "n2")) and stopper.stop_all()


def test_glyph_fingerprints_follow_the_rendered_set_and_its_fonts():
    first = dataset_fingerprint(TrialConfig.from_flat(GLYPHS).data)
    again = dataset_fingerprint(TrialConfig.from_flat(GLYPHS).data)
    other = dataset_fingerprint(TrialConfig.from_flat({**GLYPHS, "data.num_classes": 6}).data)
    assert first == again and set(first) == {"data.fingerprint", "data.sources"}
    assert other["data.fingerprint"] != first["data.fingerprint"]
    assert other["data.sources"] == first["data.sources"]  # the same fonts drew both


def test_file_digests_see_content_not_only_names_and_sizes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "batch").write_bytes(b"0123")
    (b / "batch").write_bytes(b"0124")
    assert digest_files([a / "batch"], relative_to=a) != digest_files([b / "batch"], relative_to=b)
    (b / "batch").write_bytes(b"0123")
    assert digest_files([a / "batch"], relative_to=a) == digest_files([b / "batch"], relative_to=b)


@pytest.mark.parametrize(
    "change, same", [({"data.num_classes": 6}, False), ({"train.epochs": 9}, True)]
)
def test_the_data_key_is_the_data_config(change, same):
    base = TrialConfig.from_flat(GLYPHS).to_flat()
    changed = TrialConfig.from_flat({**GLYPHS, **change}).to_flat()
    assert (data_key(base) == data_key(changed)) is same
