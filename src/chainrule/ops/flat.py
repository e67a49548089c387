"""Reads and writes of a tensor seen as 1-d: ``take``, ``put`` (and ``put_``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.tensor import Tensor


def _flat_index(index: Any, size: int, op: str) -> Any:
    idx = index.data if isinstance(index, Tensor) else backend.asarray(index, like=index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {idx.dtype}")
    if idx.size and (idx.min() < -size or idx.max() >= size):
        bad = int(idx.min()) if idx.min() < -size else int(idx.max())
        raise IndexError(f"{op}(): index {bad} is out of range for a tensor of {size} elements")
    return idx.astype(np.int64, copy=False)


def take(input: Tensor, index: Any) -> Tensor:
    """torch's ``take``: ``input`` read as 1-d at ``index`` (negative positions count from the end); the
    result has ``index``'s shape."""
    idx = _flat_index(index, input.numel(), "take")
    return input.reshape(-1)[idx]


def put(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """torch's ``put``: a copy of ``input`` with ``source``'s elements written (or, with ``accumulate``,
    added) at the 1-d positions ``index``."""
    from chainrule.ops.index import index_put  # noqa: PLC0415

    if not isinstance(source, Tensor):
        raise TypeError(f"put(): source must be a Tensor, got {type(source).__name__}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put(): expected source of dtype {input.dtype}, got {source.dtype}")
    idx = _flat_index(index, input.numel(), "put").reshape(-1)
    if source.numel() != idx.size:
        raise RuntimeError(
            f"put(): expected source to have {idx.size} elements (index's), got {source.numel()}"
        )
    if idx.size == 0:
        return input.clone()
    out = index_put(input.reshape(-1), (idx,), source.reshape(-1), accumulate=bool(accumulate))
    return out.reshape(input.shape)


def put_(self: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """In-place :func:`put`."""
    from chainrule.ops.gather_scatter import in_place  # noqa: PLC0415

    return in_place(self, "put_", source, lambda t: put(t, index, source, accumulate))
