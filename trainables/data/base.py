"""Dataset bundle, in-memory splits, the dataset registry and the dataset error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from trainables.config import DataConfig
from trainables.data.errors import DatasetError
from trainables.data.subsets import head_tail_split, shot_split
from trainables.registry import Registry

__all__ = ["DATASETS", "DatasetBundle", "DatasetError", "Split", "augment_batch", "load_dataset"]

DATASETS: Registry[Callable[[DataConfig], DatasetBundle]] = Registry("dataset")


@dataclass
class Split:
    """Images (N, C, H, W) float32, already normalized, and labels (N,) int64, on one device.

    Large folder datasets use ``streaming.StreamingSplit`` instead, with the same interface.
    """

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def to(self, device: torch.device) -> Split:
        return Split(self.x.to(device), self.y.to(device))

    def take(self, mask: torch.Tensor) -> Split:
        """The images where ``mask`` (a boolean tensor over the split) holds."""
        return Split(self.x[mask], self.y[mask])

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None = None,
        augment: bool = False,
        flip: bool = True,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Index slicing over the resident tensor; augmentation runs batched on the device."""
        n = len(self)
        order = torch.randperm(n, generator=generator).to(self.x.device) if shuffle else None
        for start in range(0, n, batch_size):
            idx = (
                order[start : start + batch_size]
                if order is not None
                else slice(start, start + batch_size)
            )
            x, y = self.x[idx], self.y[idx]
            if augment:
                x = augment_batch(x, generator, flip=flip)
            yield x, y


def augment_batch(
    x: torch.Tensor, generator: torch.Generator | None, pad: int = 2, flip: bool = True
) -> torch.Tensor:
    """Random crop with zero padding (each image shifted by up to ``pad`` pixels, its own shift)
    and a random horizontal flip per image, batched on the tensor's device."""
    b, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    shifts = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).to(x.device)
    rows = (shifts[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None].expand(
        b, c, h, w + 2 * pad
    )
    out = padded.gather(2, rows)
    cols = (shifts[1][:, None] + torch.arange(w, device=x.device))[:, None, None, :].expand(
        b, c, h, w
    )
    out = out.gather(3, cols)
    if not flip:
        return out
    flipped = torch.rand(b, generator=generator).to(x.device) < 0.5
    return torch.where(flipped[:, None, None, None], out.flip(3), out)


@dataclass
class DatasetBundle:
    """Train/val/test splits plus what losses and metrics need to know about the classes.

    Labels of ``train`` and ``val`` index ``class_names``. With ``retrieval=True`` the test
    split holds classes never seen in training (metric learning: CUB-200, Cars-196); its labels
    index ``test_class_names`` and it is evaluated by Recall@K / MAP@R, not by a classifier.
    ``val_unseen`` (``data.val_classes``) holds images of validation classes, disjoint from both
    the training and the test classes, for selecting by retrieval (labels index ``val_class_names``).
    """

    train: Split
    val: Split
    test: Split
    num_classes: int  # classes of the classifier (the training classes)
    class_names: tuple[str, ...]
    head_threshold: int = 100  # head classes have >= this many labelled training images
    flip_ok: bool = True  # horizontal flips preserve the label (False for digits and glyphs)
    retrieval: bool = False  # test classes are unseen in training (evaluate by retrieval)
    test_class_names: tuple[str, ...] = ()  # names of the test labels; () = class_names
    name: str = ""  # registry key of the dataset that built the bundle
    val_in_pool: bool = True  # val was held out of the labelled training pool (False: a long tail's unused images, unseen fonts)
    val_unseen: Split | None = (
        None  # retrieval: images of the validation classes, never trained on; None = no such classes
    )
    val_class_names: tuple[str, ...] = ()  # names of the val_unseen labels

    @property
    def in_channels(self) -> int:
        return int(self.train.x.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.train.x.shape[-1])

    @property
    def class_counts(self) -> torch.Tensor:
        """Labelled training images per class: the training split, plus the validation share when
        that was held out of the same pool (``val_in_pool``).

        With a long tail this is n_i of its design (CIFAR-100-LT, rho=100: 500 ... 5), all of it
        in the training split: its validation images are ones the tail left unused.
        """
        train = torch.bincount(self.train.y.cpu(), minlength=self.num_classes)
        if not self.val_in_pool:
            return train
        return train + torch.bincount(self.val.y.cpu(), minlength=self.num_classes)

    @property
    def head_classes(self) -> tuple[int, ...]:
        return head_tail_split(self.class_counts, self.head_threshold)[0]

    @property
    def tail_classes(self) -> tuple[int, ...]:
        return head_tail_split(self.class_counts, self.head_threshold)[1]

    @property
    def many_classes(self) -> tuple[int, ...]:
        """Many-shot classes: more than 100 labelled training images."""
        return shot_split(self.class_counts)[0]

    @property
    def medium_classes(self) -> tuple[int, ...]:
        """Medium-shot classes: 20 to 100 labelled training images."""
        return shot_split(self.class_counts)[1]

    @property
    def few_classes(self) -> tuple[int, ...]:
        """Few-shot classes: fewer than 20 labelled training images."""
        return shot_split(self.class_counts)[2]

    def to(self, device: torch.device) -> DatasetBundle:
        self.train, self.val, self.test = (
            self.train.to(device),
            self.val.to(device),
            self.test.to(device),
        )
        if self.val_unseen is not None:
            self.val_unseen = self.val_unseen.to(device)
        return self


def load_dataset(cfg: DataConfig, device: torch.device) -> DatasetBundle:
    """Build the dataset named by ``cfg.name`` and move it to ``device``."""
    return DATASETS.get(cfg.name)(cfg).to(device)
