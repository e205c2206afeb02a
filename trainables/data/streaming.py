"""Large image folders streamed from disk through a DataLoader with workers.

Small datasets are decoded once and held as one tensor on the training device (``Split``).
Above ``STREAM_ABOVE_IMAGES`` images that stops being sensible: 20,000 x 3 x 64 x 64 float32
is about 1 GB per copy (and the assembly step briefly holds two), so the folder loaders
(``image_folder``, ``cub200``, ``cars196``) then hand ``ImagePaths`` to the assembly step
instead of pixels, and it builds ``StreamingSplit``s: the same class subset, long tail and
validation hold-out (they only need labels), with images decoded per batch by DataLoader
workers. Decoding (shorter side to ``size``, centre crop) is image_files' own, so a streamed
image equals the in-memory one; per-channel mean and std come from a seeded sample of at most
``STATS_SAMPLE`` training images (all of them when there are fewer, as in memory) and are
shared by the validation and test splits. ``$STUDY_STREAM_ABOVE_IMAGES`` overrides the
threshold (read at load time; 0 streams every folder dataset).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from trainables.data.base import augment_batch
from trainables.data.errors import DatasetError
from trainables.data.image_files import _decode, load_images

__all__ = [
    "STREAM_ABOVE_IMAGES",
    "STREAM_ENV",
    "ImagePaths",
    "LazyImages",
    "StreamingSplit",
    "channel_stats",
    "images_or_paths",
    "should_stream",
    "streaming_splits",
]

STREAM_ABOVE_IMAGES = 20_000  # images; ~20k x 3 x 64 x 64 float32 ~ 1 GB held per copy
STREAM_ENV = "STUDY_STREAM_ABOVE_IMAGES"
STATS_SAMPLE = 256  # training images the normalization statistics are computed from
STATS_SEED = 0
MAX_WORKERS = (
    2  # decoding processes per trial, and never more than the trial's torch threads (its CPU share)
)


def stream_above() -> int:
    """The threshold in effect now: ``$STUDY_STREAM_ABOVE_IMAGES`` or ``STREAM_ABOVE_IMAGES``."""
    raw = os.environ.get(STREAM_ENV, "").strip()
    return int(raw) if raw else STREAM_ABOVE_IMAGES


def should_stream(num_images: int) -> bool:
    """Whether a folder dataset of ``num_images`` images (all splits) streams instead of loading."""
    return num_images > stream_above()


def images_or_paths(
    paths: Sequence[Path], size: int, layout: str, stream: bool
) -> torch.Tensor | ImagePaths:
    """The decoded (N, 3, size, size) uint8 images, or (``stream``) the files as ``ImagePaths``
    (checked to exist now, so a missing file fails at load time, not in a worker mid-epoch)."""
    if not stream:
        return load_images(paths, size, layout)
    for path in paths:
        if not Path(path).is_file():
            raise DatasetError(f"{path} is missing: expected {layout}")
    return ImagePaths(paths, size, layout)


class ImagePaths:
    """Image files (not yet decoded) indexable like an image tensor: ``paths[mask or indices]``."""

    def __init__(self, paths: Sequence[Path | str], size: int, layout: str):
        self.paths = np.asarray([str(p) for p in paths], dtype=object).reshape(-1)
        self.size, self.layout = size, layout

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, idx) -> ImagePaths:
        if isinstance(idx, torch.Tensor):
            idx = idx.cpu().numpy()
        out = ImagePaths([], self.size, self.layout)
        out.paths = self.paths[idx].reshape(-1)
        return out

    def decode(self, i: int) -> torch.Tensor:
        """(3, size, size) uint8 image ``i``."""
        # writable copy
        return torch.from_numpy(np.array(_decode(Path(self.paths[i]), self.size, self.layout)))


def channel_stats(
    paths: ImagePaths, sample: int = STATS_SAMPLE, seed: int = STATS_SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (shape (1, C, 1, 1)) of [0, 1] pixels of a seeded sample."""
    n = len(paths)
    if n == 0:
        return torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
    idx = (
        torch.arange(n)
        if n <= sample
        else torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:sample].sort().values
    )
    x = torch.stack([paths.decode(int(i)) for i in idx]).float() / 255.0
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return mean, std


class _FileDataset(Dataset):
    """Decodes, scales to [0, 1] and standardizes one image per item (runs in the workers)."""

    def __init__(self, paths: ImagePaths, y: torch.Tensor, mean: torch.Tensor, std: torch.Tensor):
        self.paths, self.y, self.mean, self.std = paths, y.cpu(), mean[0], std[0]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.paths.decode(i).float() / 255.0
        return x.sub_(self.mean).div_(self.std), self.y[i]


class LazyImages:
    """Stands in for ``Split.x``: knows its shape; ``[i]`` / ``[a:b]`` decodes just those images."""

    def __init__(self, split: StreamingSplit):
        self._split = split

    @property
    def shape(self) -> torch.Size:
        s = self._split
        return torch.Size((len(s), 3, s.paths.size, s.paths.size))

    dtype = torch.float32

    @property
    def device(self) -> torch.device:
        return self._split.device

    def __len__(self) -> int:
        return len(self._split)

    def __getitem__(self, idx) -> torch.Tensor:
        s = self._split
        ds = _FileDataset(s.paths, s.y, s.mean, s.std)
        if isinstance(idx, (int, np.integer)):
            return ds[int(idx) % len(ds)][0].to(s.device)
        ids = (
            range(len(ds))[idx]
            if isinstance(idx, slice)
            else [int(i) for i in torch.as_tensor(idx).flatten()]
        )
        if len(ids) == 0:
            return torch.empty(0, *self.shape[1:], device=s.device)
        return torch.stack([ds[i][0] for i in ids]).to(s.device)


class StreamingSplit:
    """A split read from image files per batch; the interface of ``Split``.

    ``y`` (labels) is resident on the split's device; ``x`` is a ``LazyImages``. ``to(device)``
    only records the device each batch is moved to.
    """

    def __init__(
        self,
        paths: ImagePaths,
        y: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        device: torch.device | None = None,
    ):
        self.paths, self.mean, self.std = paths, mean.cpu(), std.cpu()
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.y = y.to(self.device)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def x(self) -> LazyImages:
        return LazyImages(self)

    def to(self, device: torch.device) -> StreamingSplit:
        return StreamingSplit(self.paths, self.y, self.mean, self.std, device)

    def take(self, mask: torch.Tensor) -> StreamingSplit:
        """The images where ``mask`` (a boolean tensor over the split) holds."""
        return StreamingSplit(
            self.paths[mask.cpu()], self.y[mask], self.mean, self.std, self.device
        )

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None = None,
        augment: bool = False,
        flip: bool = True,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches decoded by DataLoader workers; the shuffle order is seeded from ``generator``
        and augmentation runs batched on the device, as in ``Split.batches``."""
        order = None
        if shuffle:
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            order = torch.Generator().manual_seed(seed)
        # concurrent trials must not oversubscribe the cores
        workers = min(MAX_WORKERS, torch.get_num_threads())
        loader = DataLoader(
            _FileDataset(self.paths, self.y, self.mean, self.std),
            batch_size=batch_size,
            shuffle=shuffle,
            generator=order,
            num_workers=workers,
            persistent_workers=False,
            pin_memory=self.device.type == "cuda",
        )
        for x, y in loader:
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            yield (augment_batch(x, generator, flip=flip) if augment else x), y


def streaming_splits(
    train: ImagePaths,
    train_y: torch.Tensor,
    val: ImagePaths,
    val_y: torch.Tensor,
    test: ImagePaths,
    test_y: torch.Tensor,
) -> tuple[StreamingSplit, StreamingSplit, StreamingSplit]:
    """Train/val/test StreamingSplits standardized with statistics of the training images."""
    mean, std = channel_stats(train)
    return (
        StreamingSplit(train, train_y, mean, std),
        StreamingSplit(val, val_y, mean, std),
        StreamingSplit(test, test_y, mean, std),
    )
