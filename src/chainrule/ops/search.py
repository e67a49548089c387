"""Searches that return indices or masks (no gradient): ``searchsorted``, ``bucketize``, ``isin``,
``argwhere``, ``unravel_index``."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.tensor import Tensor, _new


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else backend.asarray(x, like=x)


def _side(right: bool, side: str | None) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got {side!r}")
    if right and side == "left":
        raise RuntimeError(
            "searchsorted(): side and right can't be set to opposites, got side of left while right was True"
        )
    return side


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Any = None,
    out: Any = None,
) -> Tensor:
    """torch's ``searchsorted``: for each value of ``input``, the index in the last dim of ``sorted_sequence``
    where it would be inserted to keep it sorted (the first such index, or the last with ``right=True`` or
    ``side='right'``). A N-d sequence searches each row for the matching row of ``input``."""
    if out is not None:
        raise TypeError("searchsorted(): out= is not supported")
    side = _side(right, side)
    seq = np.asarray(_data(sorted_sequence))
    if sorter is not None:
        order = np.asarray(_data(sorter))
        if order.shape != seq.shape:
            raise RuntimeError(
                f"searchsorted(): sorter {order.shape} must have the sequence's shape {seq.shape}"
            )
        seq = np.take_along_axis(seq, order.astype(np.int64), axis=-1)
    values = np.asarray(_data(input))
    if seq.ndim == 0:
        raise RuntimeError("searchsorted(): the sorted sequence must have at least one dimension")
    if seq.ndim == 1:
        found = np.searchsorted(seq, values, side=side)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                f"searchsorted(): boundaries {seq.shape} and input {values.shape} must have the same dims "
                "except the last"
            )
        if values.size == 0:
            return _new(np.zeros(values.shape, dtype=np.int32 if out_int32 else np.int64))
        rows = zip(seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1]))
        found = np.stack([np.searchsorted(s, v, side=side) for s, v in rows])
        found = found.reshape(values.shape)
    return _new(np.asarray(found, dtype=np.int32 if out_int32 else np.int64))


def bucketize(
    input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False, out: Any = None
) -> Tensor:
    """torch's ``bucketize``: the bucket of each value of ``input`` among the 1-d sorted ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (``<=`` then ``<`` with ``right=True``)."""
    if out is not None:
        raise TypeError("bucketize(): out= is not supported")
    if np.ndim(_data(boundaries)) != 1:
        raise RuntimeError(f"bucketize(): boundaries must be 1-d, got {np.ndim(_data(boundaries))} dims")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """torch's ``isin``: a bool tensor of ``elements``'s shape, True where the element is in ``test_elements``
    (False with ``invert=True``). ``assume_unique`` is accepted and does not change the result."""
    return _new(np.asarray(np.isin(_data(elements), _data(test_elements), invert=bool(invert))))


def argwhere(input: Tensor) -> Tensor:
    """torch's ``argwhere``: the (n, ndim) int64 indices of ``input``'s non-zero elements."""
    from chainrule.ops.elementwise import nonzero  # noqa: PLC0415

    return nonzero(input)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """torch's ``unravel_index``: flat ``indices`` as one coordinate tensor per dim of ``shape`` (negative
    indices count from the end)."""
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    idx = np.asarray(_data(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"unravel_index(): expected 'indices' to be an integer tensor, got {idx.dtype}")
    if any(d < 0 for d in dims):
        raise ValueError(f"unravel_index(): 'shape' cannot have negative values, got {dims}")
    size = int(np.prod(dims, dtype=np.int64))
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise RuntimeError(
            f"unravel_index(): 'indices' must be in range [-{size}, {size - 1}] for shape {dims}"
        )
    coords = np.unravel_index(np.where(idx < 0, idx + size, idx), dims)
    return tuple(_new(np.asarray(c, dtype=np.int64)) for c in coords)
