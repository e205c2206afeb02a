"""The one error type of the data package."""

from __future__ import annotations

__all__ = ["DatasetError"]


class DatasetError(ValueError):
    """A dataset that is missing, corrupt or cannot satisfy the config; the message is one line.

    Messages name the path and the expected layout, e.g.
    ``/data/cifar-10-batches-py/data_batch_1 is missing: expected <root>/cifar-10-batches-py/...``.
    """
