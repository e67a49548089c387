"""Toy 2-D classification sets (spiral, moons, circles, xor): offline, deterministic by seed.

Each returns ``(x, y)``: ``x`` a float32 Tensor of shape ``(n_samples, 2)``, ``y`` int64 labels
``(n_samples,)``.

>>> x, y = make_moons(100, noise=0.1, seed=0)
>>> x.shape, x.dtype, y.dtype, sorted(set(y.tolist()))
((100, 2), dtype('float32'), dtype('int64'), [0, 1])
"""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Tensor, _new

__all__ = ["make_circles", "make_moons", "make_spiral", "make_xor"]


def _check(n_samples: int, noise: float, minimum: int = 1) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < minimum:
        raise ValueError(f"n_samples must be at least {minimum}, got {n_samples}")
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")


def _finish(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, noise: float) -> tuple[Tensor, Tensor]:
    perm = rng.permutation(len(y))
    x, y = x[perm], y[perm]
    if noise:
        x = x + rng.normal(scale=noise, size=x.shape)
    return _new(x.astype(np.float32)), _new(y.astype(np.int64))


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int | None = 0
                ) -> tuple[Tensor, Tensor]:  # fmt: skip
    """``n_classes`` interleaved spiral arms (the CS231n set), about ``n_samples / n_classes`` points each.

    Arm ``k`` has radius ``r`` in [0, 1] and angle ``2πk/n_classes + 4r`` plus Gaussian ``noise`` (radians).
    """
    _check(n_samples, noise, minimum=n_classes)
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    rng = np.random.default_rng(seed)
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = 2 * np.pi * k / n_classes + 4.0 * r + rng.normal(scale=noise, size=m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, k))
    return _finish(np.concatenate(xs), np.concatenate(ys), rng, 0.0)


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = 0) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (scikit-learn's ``make_moons`` construction); ``noise`` is Gaussian."""
    _check(n_samples, noise)
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    a, b = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(a), np.sin(a)], axis=1)
    inner = np.stack([1 - np.cos(b), 1 - np.sin(b) - 0.5], axis=1)
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(np.concatenate([outer, inner]), y, rng, noise)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8, seed: int | None = 0
                 ) -> tuple[Tensor, Tensor]:  # fmt: skip
    """A large circle (label 0) around a smaller one of radius ``factor`` (label 1)."""
    _check(n_samples, noise)
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    a = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    b = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    outer = np.stack([np.cos(a), np.sin(a)], axis=1)
    inner = factor * np.stack([np.cos(b), np.sin(b)], axis=1)
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(np.concatenate([outer, inner]), y, rng, noise)


def make_xor(n_samples: int = 200, noise: float = 0.0, seed: int | None = 0) -> tuple[Tensor, Tensor]:
    """Points uniform in [-1, 1]²; label 1 where exactly one coordinate is positive (before ``noise``)."""
    _check(n_samples, noise)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = (x[:, 0] > 0) ^ (x[:, 1] > 0)
    return _finish(x, y, rng, noise)
