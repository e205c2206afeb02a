"""Names of the metrics a trial reports that other packages read: the search, the records, the
analysis and the benchmarks import them from here instead of spelling the strings again."""

from __future__ import annotations

VAL_ACCURACY = "val_accuracy"  # on the validation split: the default objective of every search
TEST_ACCURACY = "test_accuracy"  # accuracy on the test split, after the last epoch only

__all__ = ["TEST_ACCURACY", "VAL_ACCURACY"]
