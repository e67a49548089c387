"""``pad``: constant padding (the engine's ``Pad`` op); reflect/replicate/circular ones by index gathers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chainrule.nn.functional._utils import as_tensor
from chainrule.ops import index_select
from chainrule.ops import pad as _constant_pad
from chainrule.ops.shape import crop_negative
from chainrule.tensor import Tensor

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (before, after) pairs starting from the LAST dim.

    ``mode`` is ``'constant'`` (fill with ``value``), ``'reflect'``, ``'replicate'`` or ``'circular'``.

    >>> import chainrule as cr
    >>> cr.nn.functional.pad(cr.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    x = as_tensor(input, "pad")
    pads = tuple(int(p) for p in pad)
    if len(pads) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pads)}")
    if len(pads) // 2 > x.ndim:
        raise ValueError(
            f"pad: padding length {len(pads)} is too large for an input with {x.ndim} dimensions"
        )
    if mode == "constant":
        return _constant_pad(x, pads, "constant", 0.0 if value is None else value)
    if mode not in _NUMPY_MODE:
        raise ValueError(
            f"pad: unsupported padding mode {mode!r}; use 'constant', 'reflect', 'replicate' or 'circular'"
        )
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if mode == "circular":  # torch wraps the cropped input; reflect/replicate index the whole input
        x, pads = crop_negative(x, pads), tuple(max(p, 0) for p in pads)
    out = x
    for i in range(len(pads) // 2):
        dim = x.ndim - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        if lo or hi:
            out = index_select(out, dim, _source_index(x.shape[dim], lo, hi, mode))
    return out


def _source_index(size: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position along one dim, the input position it copies (negative ``lo``/``hi`` crop)."""
    if size + lo + hi < 0:
        raise ValueError(f"pad: padding ({lo}, {hi}) gives a negative output size for a dimension of {size}")
    if mode == "reflect" and (lo >= size or hi >= size):
        raise ValueError(
            f"pad: padding ({lo}, {hi}) should be less than the dimension size {size} for reflect padding"
        )
    if mode == "circular":
        if lo > size or hi > size:
            raise ValueError(
                f"pad: padding ({lo}, {hi}) can't exceed the dimension size {size} for circular padding"
            )
        return np.pad(np.arange(size), (lo, hi), mode="wrap")
    if size == 0:
        raise ValueError(f"pad: cannot pad an empty dimension in mode {mode!r}")
    i = np.arange(size + lo + hi) - lo
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    i = np.abs(i)
    return np.where(i >= size, 2 * (size - 1) - i, i)
