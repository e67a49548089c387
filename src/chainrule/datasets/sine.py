"""Windows of a sine curve for next-step prediction with recurrent nets (offline, deterministic by seed).

>>> x, y = sine_sequences(8, seq_len=20, seed=0)
>>> x.shape, y.shape, x.dtype
((8, 20, 1), (8, 1), dtype('float32'))
"""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Tensor, _new

__all__ = ["sine_sequences"]


def sine_sequences(
    n: int = 256,
    seq_len: int = 20,
    seed: int | None = 0,
    *,
    period: float = 25.0,
    noise: float = 0.0,
    target: str = "next",
) -> tuple[Tensor, Tensor]:
    """``n`` windows of ``sin(2π t / period + φ)`` with random phases ``φ``, sampled at ``t = 0, 1, ...``.

    Returns batch-first ``x`` of shape ``(n, seq_len, 1)`` and, with ``target="next"``, ``y`` of shape
    ``(n, 1)``: the value one step after each window; with ``target="shifted"``, ``y`` is ``x`` shifted one
    step ahead, ``(n, seq_len, 1)``. ``noise`` adds Gaussian noise to the inputs only (targets stay clean).
    The naive "repeat the last value" predictor has mean squared error ``1 - cos(2π / period)`` on ``"next"``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive int, got {seq_len!r}")
    if period <= 0:
        raise ValueError(f"period must be positive, got {period}")
    if noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    if target not in ("next", "shifted"):
        raise ValueError(f"target must be 'next' or 'shifted', got {target!r}")
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    t = np.arange(seq_len + 1)[None, :]
    values = np.sin(2 * np.pi * t / period + phase)
    x = values[:, :seq_len]
    if noise:
        x = x + rng.normal(scale=noise, size=x.shape)
    y = values[:, seq_len:] if target == "next" else values[:, 1:, None]
    return _new(x[:, :, None].astype(np.float32)), _new(y.astype(np.float32))
