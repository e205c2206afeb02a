"""Numerics shared by the losses: compute in fp32 (fp64 stays fp64) whatever the autocast state.

Under bf16/fp16 autocast the backbone hands over low-precision embeddings; the normalizations,
exponentials and margins below lose too much in 8 mantissa bits, so every loss upcasts its inputs
and runs with autocast disabled. Float64 inputs stay float64 so that ``gradcheck`` works.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import torch

LOW_PRECISION = (torch.float16, torch.bfloat16)

F = TypeVar("F", bound=Callable[..., torch.Tensor])


def compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The promoted floating dtype of ``tensors``, with half and bfloat16 raised to float32."""
    dtype = functools.reduce(torch.promote_types, [t.dtype for t in tensors])
    return torch.float32 if dtype in LOW_PRECISION or not dtype.is_floating_point else dtype


def upcast(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` converted to their common compute dtype (see ``compute_dtype``)."""
    dtype = compute_dtype(*tensors)
    return tuple(t.to(dtype) for t in tensors)


def full_precision(method: F) -> F:
    """Run ``method(self, inputs, ...)`` with autocast disabled on the inputs' device."""

    @functools.wraps(method)
    def wrapped(self, inputs: torch.Tensor, *args, **kwargs):
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            return method(self, inputs, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


__all__ = ["LOW_PRECISION", "compute_dtype", "full_precision", "upcast"]


def cosine_similarity(embeddings: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(B, K) cosines between L2-normalized embeddings and weight rows, in at least fp32."""
    x, w = upcast(embeddings, weight)
    return torch.nn.functional.linear(
        torch.nn.functional.normalize(x, dim=1), torch.nn.functional.normalize(w, dim=1)
    )
