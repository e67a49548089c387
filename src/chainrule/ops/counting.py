"""Counting ops (no gradient): ``unique``, ``unique_consecutive``, ``bincount``, ``histc``.

``unique`` always returns its values sorted (torch allows any order for ``sorted=False``; sorted is one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.ops.reduce import normalize_axes
from chainrule.tensor import Tensor, _new


def _result(values: np.ndarray, inverse: Any, counts: Any, return_inverse: bool, return_counts: bool) -> Any:
    out = [_new(values)]
    if return_inverse:
        out.append(_new(np.asarray(inverse, dtype=np.int64)))
    if return_counts:
        out.append(_new(np.asarray(counts, dtype=np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    x: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: Any = None
) -> Any:  # noqa: A002
    """The distinct values (or slices along ``dim``) of ``x``, sorted; with ``return_inverse`` where each
    element (slice) went, with ``return_counts`` how often each occurs."""
    data = x.data
    if dim is None:
        values, inverse, counts = np.unique(data.reshape(-1), return_inverse=True, return_counts=True)
        return _result(values, inverse.reshape(data.shape), counts, return_inverse, return_counts)
    ax = normalize_axes(dim, x.ndim, "unique")[0] if x.ndim else 0
    if data.shape[ax] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _result(data.copy(), empty, empty, return_inverse, return_counts)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=ax)
    return _result(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(
    x: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: Any = None
) -> Any:
    """``x`` with each run of equal consecutive values (slices along ``dim``) kept once."""
    data = x.data
    if dim is None:
        flat = data.reshape(-1)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, dtype=bool)
        values = flat[starts]
        inv_shape = data.shape
    else:
        ax = normalize_axes(dim, x.ndim, "unique_consecutive")[0] if x.ndim else 0
        moved = np.moveaxis(data, ax, 0)
        moved = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:], dtype=np.int64)))  # sizes may be 0
        n = moved.shape[0]
        change = np.any(moved[1:] != moved[:-1], axis=1) if n else np.zeros(0, dtype=bool)
        starts = np.concatenate([[True], change]) if n else np.zeros(0, dtype=bool)
        values = np.take(data, np.flatnonzero(starts), axis=ax)
        inv_shape = (n,)
    inverse = (np.cumsum(starts) - 1).reshape(inv_shape)
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    return _result(values, inverse, counts, return_inverse, return_counts)


def bincount(x: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in the 1-d ``x`` (summing ``weights`` if given)."""
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs (got {x.ndim}-d {x.dtype})"
        )
    if x.data.size and x.data.min() < 0:
        raise RuntimeError(
            "bincount only supports 1-d non-negative integral inputs (it has a negative value)"
        )
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return _new(np.bincount(x.data, minlength=minlength).astype(np.int64))
    w = weights.data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != x.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input ({w.shape})")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64  # torch: float weights keep their dtype
    return _new(np.bincount(x.data, weights=w.astype(np.float64), minlength=minlength).astype(dtype))


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``x`` in ``bins`` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored, the last bin includes ``max``."""
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, got {bins}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"histc: input must be floating point, got {x.dtype}")
    data = x.data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"histc: max ({hi}) must be larger than or equal to min ({lo})")
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc: range of [{lo}, {hi}] is not finite")
    dt = x.dtype
    lo_, hi_ = dt.type(lo), dt.type(hi)  # torch's bin edges are in the input's dtype
    inside = data[(data >= lo_) & (data <= hi_)]
    pos = ((inside - lo_) * dt.type(bins) / (hi_ - lo_)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # max itself falls in the last bin
    return _new(np.bincount(pos, minlength=bins)[:bins].astype(dt))
