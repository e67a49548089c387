"""Tiny 2-D binary-classification datasets (the minitorch/toydl set), deterministic by seed.

Points lie in the unit square (``spiral`` around its centre); labels are ``0.0`` or ``1.0``.

>>> data = xor(20, seed=0)
>>> len(data.xs), sorted(set(data.ys))
(20, [0.0, 1.0])
>>> xs, ys = data
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["DATASETS", "Dataset", "circle", "diag", "simple", "spiral", "split", "xor"]

Point = tuple[float, float]


@dataclass(frozen=True)
class Dataset:
    """``xs``: ``n`` points ``(x1, x2)``; ``ys``: their labels (0.0 or 1.0). Unpacks as ``xs, ys``."""

    name: str
    xs: list[Point]
    ys: list[float]

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.xs)

    def __iter__(self) -> Iterator[list]:
        return iter((self.xs, self.ys))


def _check_n(n: object, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}")
    return n


def _labelled(name: str, n: int, seed: int | None, rule: Callable[[float, float], bool]) -> Dataset:
    rng = random.Random(seed)
    xs = [(rng.random(), rng.random()) for _ in range(_check_n(n))]
    return Dataset(name, xs, [1.0 if rule(a, b) else 0.0 for a, b in xs])


def simple(n: int = 50, seed: int | None = 0) -> Dataset:
    """Label 1 left of the vertical line ``x1 = 0.5``."""
    return _labelled("simple", n, seed, lambda a, b: a < 0.5)


def diag(n: int = 50, seed: int | None = 0) -> Dataset:
    """Label 1 below the diagonal ``x1 + x2 = 0.5``."""
    return _labelled("diag", n, seed, lambda a, b: a + b < 0.5)


def split(n: int = 50, seed: int | None = 0) -> Dataset:
    """Label 1 in the two vertical bands ``x1 < 0.2`` and ``x1 > 0.8``."""
    return _labelled("split", n, seed, lambda a, b: a < 0.2 or a > 0.8)


def xor(n: int = 50, seed: int | None = 0) -> Dataset:
    """Label 1 in the top-left and bottom-right quadrants."""
    return _labelled("xor", n, seed, lambda a, b: (a < 0.5 < b) or (b < 0.5 < a))


def circle(n: int = 50, seed: int | None = 0) -> Dataset:
    """Label 1 outside the circle of squared radius 0.1 around ``(0.5, 0.5)``."""
    return _labelled("circle", n, seed, lambda a, b: (a - 0.5) ** 2 + (b - 0.5) ** 2 > 0.1)


def spiral(n: int = 50, seed: int | None = 0, noise: float = 0.0) -> Dataset:
    """Two interleaved spiral arms around ``(0.5, 0.5)``: ``n - n // 2`` points labelled 0, ``n // 2`` 1.

    The arms are deterministic; ``noise`` adds uniform jitter of that amplitude, drawn from
    ``random.Random(seed)``. The points are shuffled with the same generator.
    """
    _check_n(n, minimum=2)
    if not noise >= 0.0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    rng = random.Random(seed)

    def arm(count: int, sign: float) -> list[Point]:
        points = []
        for i in range(count):
            t = 10.0 * (i + 5) / (count + 5)  # skip the cramped centre
            c, s = t * math.cos(t) / 20.0, t * math.sin(t) / 20.0
            jitter = (rng.uniform(-noise, noise), rng.uniform(-noise, noise)) if noise else (0.0, 0.0)
            points.append((sign * c + 0.5 + jitter[0], sign * s + 0.5 + jitter[1]))
        return points

    labelled = [(p, 0.0) for p in arm(n - n // 2, 1.0)] + [(p, 1.0) for p in arm(n // 2, -1.0)]
    rng.shuffle(labelled)
    return Dataset("spiral", [p for p, _ in labelled], [y for _, y in labelled])


DATASETS: dict[str, Callable[..., Dataset]] = {
    "simple": simple,
    "diag": diag,
    "split": split,
    "xor": xor,
    "circle": circle,
    "spiral": spiral,
}
