"""The UCI 8×8 handwritten digits (1,797 images), shipped inside the package: offline, no extra needed.

``digits.npz`` beside this module holds the same numbers as scikit-learn's bundled copy
(``sklearn.datasets.load_digits``): ``images`` as uint8 ``(1797, 8, 8)`` with pixels 0-16 and ``labels`` as
uint8 ``(1797,)``, in scikit-learn's order. Source and licence: ``DIGITS_LICENSE.txt`` beside it.

>>> (x_train, y_train), (x_test, y_test) = load_digits(seed=0)
>>> x_train.shape, x_test.shape
((1438, 64), (359, 64))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chainrule.tensor import Tensor, _new

__all__ = ["load_digits", "stratified_split"]

DIGITS_FILE = Path(__file__).with_name("digits.npz")


def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped pixels (uint8, 0-16, shape (1797, 64)) and labels (uint8)."""
    try:
        with np.load(DIGITS_FILE, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except OSError as exc:  # a broken install: say which file is missing rather than a bare errno
        raise OSError(
            f"the bundled digits file {DIGITS_FILE} cannot be read ({exc}); reinstall chainrule"
        ) from exc
    return images.reshape(len(images), 64), labels


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
    order (scikit-learn's order).
    """
    pixels, labels = _raw_digits()
    x = (pixels / 16.0).astype(np.float32)
    y = labels.astype(np.int64)
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    if not split:
        return _new(x), _new(y)
    train, test = stratified_split(y, test_size, seed)
    return (_new(x[train]), _new(y[train])), (_new(x[test]), _new(y[test]))
