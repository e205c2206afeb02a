"""Every trial of one data config must see the same data, on whichever node it runs.

Each trial reports ``data_key`` (a digest of its ``data.*`` config) and ``data_fingerprint``
(trainables.data.fingerprint: for glyphs the rendered set, which follows the fonts the node has);
it also tags its MLflow run with ``data.fingerprint`` and ``data.sources``. ``DataIdentity`` is a
Ray Tune stopper: the first trial of a data key sets the expected fingerprint; a trial that
reports another one stops the whole study, and ``conflict`` says which trials, on which nodes.
"""

from __future__ import annotations

from typing import Any

from ray.tune import Stopper

KEY, FINGERPRINT = "data_key", "data_fingerprint"  # what trainables.ray_trainable reports


class DataIdentity(Stopper):
    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, str, str]] = {}  # data key -> (fingerprint, trial id, node)
        self.conflict = ""

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        key, fingerprint = result.get(KEY), result.get(FINGERPRINT)
        if key and fingerprint and not self.conflict:
            node = str(result.get("node_ip", "?"))
            first = self.seen.setdefault(key, (fingerprint, trial_id, node))
            if first[0] != fingerprint:
                self.conflict = (
                    f"trials with the same data config saw different data: trial {first[1]} on node {first[2]} "
                    f"loaded data.fingerprint {first[0]}, trial {trial_id} on node {node} loaded {fingerprint}; "
                    f"the study stopped. Give every node the same fonts (glyphs) or dataset files "
                    f"(compare the data.sources tags of the two MLflow runs)"
                )
        return bool(self.conflict)

    def stop_all(self) -> bool:
        return bool(self.conflict)
