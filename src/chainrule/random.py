"""The global random generator behind ``rand``/``randn``/init/dropout/shuffling; ``manual_seed`` resets it."""

from __future__ import annotations

import numpy as np

_generator: np.random.Generator | None = None  # made on first use: importing numpy.random costs ~20 ms


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed chainrule's global generator (like ``torch.manual_seed``) and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


seed = manual_seed


def generator() -> np.random.Generator:
    """The global generator (draws from it advance the shared stream)."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator
