"""The UCI 8×8 handwritten digits (1,797 images) from scikit-learn's bundled copy: offline, no download.

>>> (x_train, y_train), (x_test, y_test) = load_digits(seed=0)  # doctest: +SKIP
>>> x_train.shape, x_test.shape  # doctest: +SKIP
((1437, 64), (360, 64))
"""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Tensor, _new

__all__ = ["load_digits", "stratified_split"]


def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits reads scikit-learn's bundled copy of the UCI digits: install the 'data' extra "
            "(pip install 'chainrule[data]')"
        ) from exc
    x, y = sk_load_digits(return_X_y=True)
    return x, y


def stratified_split(y: np.ndarray, test_size: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in the proportion ``test_size`` (rounded per class)."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = round(len(idx) * test_size)
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_digits(
    split: bool = True, seed: int | None = 0, *, flatten: bool = True, test_size: float = 0.2
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]] | tuple[Tensor, Tensor]:
    """Images scaled to [0, 1] (pixel / 16) as float32 and labels 0-9 as int64.

    ``flatten=True`` gives ``(N, 64)`` rows; ``flatten=False`` gives ``(N, 1, 8, 8)`` images for ``Conv2d``.
    With ``split=True`` (default): ``((x_train, y_train), (x_test, y_test))``, a stratified
    ``1 - test_size`` / ``test_size`` split shuffled by ``seed``; with ``split=False``: ``(x, y)`` in file
    order.
    """
    x, y = _sklearn_digits()
    x = (x / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    if not split:
        return _new(x), _new(y)
    train, test = stratified_split(y, test_size, seed)
    return (_new(x[train]), _new(y[train])), (_new(x[test]), _new(y[test]))
