"""The two-stage design that estimates the optimum softmax scale s* at each class count C.

Stage 1, the screen: a log-spaced grid of scales over a wide range, one seed, a fraction of the
training budget. Its only job is to place a window per C; it is never fitted.
Stage 2, the estimate: ``window_points`` scales evenly spaced in ln s across
``centre +- window_half_width`` (ln units), each run on every seed in ``seeds`` with the full
budget. A seed is a block (it sets the initialisation, data order and the class subset), the same
at every scale of a C, so seed effects cancel in the fitted curve.

The window's centre is the vertex of the parabola through the best screen point and its two
neighbours (in ln s), kept inside the screened range; at an edge of the screen the centre is that
edge. Both the study (to plan stage 2 from stage 1's results) and ``study power`` (to simulate
the same design) use these functions, so the simulation checks exactly what runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCREEN, ESTIMATE = "screen", "estimate"  # the `stage` tag of every trial of a staged study
STAGES = (SCREEN, ESTIMATE)


@dataclass(frozen=True)
class ScaleDesign:
    class_counts: tuple[int, ...]  # C values, nested subsets of one class pool
    screen_scales: tuple[float, ...]  # stage 1 grid (log-spaced)
    screen_fraction: float  # share of the full step budget a screen trial trains (low fidelity)
    window_points: int  # stage 2 scales per C
    window_half_width: float  # ln units each side of the window's centre
    seeds: tuple[int, ...]  # stage 2 seed blocks, the same at every scale of a C
    screen_seed: int = 0

    def __post_init__(self) -> None:
        if len(self.screen_scales) < 3 or self.window_points < 3 or len(self.seeds) < 1:
            raise ValueError(
                "a scale design needs >= 3 screen scales, >= 3 window points and >= 1 seed"
            )

    @property
    def screen_trials(self) -> int:
        return len(self.screen_scales)

    @property
    def estimate_trials(self) -> int:
        return self.window_points * len(self.seeds)

    def window(self, centre: float) -> tuple[float, ...]:
        """Stage 2's scales around ``centre`` (a scale, not its log), rounded to 4 significant digits."""
        offsets = np.linspace(-self.window_half_width, self.window_half_width, self.window_points)
        return tuple(float(f"{math.exp(math.log(centre) + o):.4g}") for o in offsets)


def screen_centre(scales: Sequence[float], values: Sequence[float], mode: str = "max") -> float:
    """Where stage 2 centres its window, from one C's screen results (see the module docstring)."""
    s = np.asarray(scales, dtype=float)
    y = np.asarray(values, dtype=float) * (1.0 if mode == "max" else -1.0)
    order = np.argsort(s)
    s, y = s[order], y[order]
    x = np.log(s)
    finite = np.isfinite(y)
    if not finite.any():
        return float(np.exp(np.median(x)))
    best = int(np.nanargmax(np.where(finite, y, -np.inf)))
    if best in (0, len(x) - 1):
        return float(s[best])
    xs, ys = x[best - 1 : best + 2], y[best - 1 : best + 2]
    if not np.isfinite(ys).all():
        return float(s[best])
    curvature, slope, _ = np.polyfit(xs, ys, 2)
    if not np.isfinite(curvature) or curvature >= 0:
        return float(s[best])
    vertex = -slope / (2.0 * curvature)
    return float(np.exp(np.clip(vertex, xs[0], xs[-1])))


__all__ = ["ESTIMATE", "SCREEN", "STAGES", "ScaleDesign", "screen_centre"]
