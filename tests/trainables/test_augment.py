"""Batched on-device augmentation: each image gets its own crop shift and flip."""

from __future__ import annotations

import torch

from trainables.data.base import augment_batch


def _shift_of(original: torch.Tensor, shifted: torch.Tensor, pad: int) -> tuple[int, int] | None:
    padded = torch.nn.functional.pad(original, (pad, pad, pad, pad))
    h, w = original.shape[-2:]
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            if torch.equal(padded[..., dy : dy + h, dx : dx + w], shifted):
                return dy, dx
    return None


def test_each_image_is_a_padded_crop_of_itself_with_its_own_shift():
    x = torch.rand(64, 1, 8, 8) + 1.0  # no zeros inside, so the padding is recognizable
    out = augment_batch(x, torch.Generator().manual_seed(1), pad=2, flip=False)
    shifts = [_shift_of(x[i], out[i], 2) for i in range(len(x))]
    assert all(s is not None for s in shifts)
    assert len(set(shifts)) > 5  # not one shift for the whole batch


def test_flip_is_per_image_and_can_be_turned_off():
    x = torch.rand(64, 1, 8, 8) + 1.0
    flipped = augment_batch(x, torch.Generator().manual_seed(2), pad=0, flip=True)
    is_flipped = [torch.equal(flipped[i], x[i].flip(-1)) for i in range(len(x))]
    assert 10 < sum(is_flipped) < 54
    kept = augment_batch(x, torch.Generator().manual_seed(2), pad=0, flip=False)
    assert torch.equal(kept, x)


def test_same_generator_same_augmentation():
    x = torch.rand(16, 3, 8, 8)
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
