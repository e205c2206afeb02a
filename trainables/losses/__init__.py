"""Loss zoo: a registry keyed by name, one file per family, and the combining Objective."""
from trainables.losses import cosine, softmax  # noqa: F401  (register the losses)
from trainables.losses.objective import Objective, subset_mask
from trainables.losses.registry import LOSSES, build_loss

__all__ = ["LOSSES", "Objective", "build_loss", "subset_mask"]
