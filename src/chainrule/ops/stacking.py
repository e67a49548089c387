"""Stacking, splitting and product-shaped ops: hstack/vstack/dstack/column_stack, atleast_nd,
tensor_split/hsplit/vsplit/dsplit, split_with_sizes, meshgrid, broadcast_tensors/broadcast_shapes,
fliplr/flipud, kron, tensordot, inner, block_diag, cartesian_prod, combinations."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.ops.index import getitem, index_select
from chainrule.ops.linalg import matmul
from chainrule.ops.shape import (
    ShapeError,
    _axis,
    _same_dtype,
    _tensors,
    broadcast_to,
    cat,
    chunk,
    flip,
    pad,
    permute,
    reshape,
    split,
    stack,
)
from chainrule.tensor import Tensor


def _unpack(tensors: tuple[Any, ...]) -> tuple[list[Tensor], bool]:
    """``f(a, b)`` and ``f([a, b])`` alike; whether a single tensor was passed on its own."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors[0]], False
    single = len(tensors) == 1
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors], single


def _atleast(tensors: tuple[Any, ...], nd: int) -> Any:
    ts, single = _unpack(tensors)
    out = []
    for t in ts:
        if t.ndim == 0:
            t = reshape(t, (1,) * nd)
        elif t.ndim == 1 and nd >= 2:
            t = reshape(t, (1, t.shape[0], 1)[:nd] if nd == 3 else (1, t.shape[0]))
        elif t.ndim == 2 and nd == 3:
            t = reshape(t, (*t.shape, 1))
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    """``torch.atleast_1d``: 0-d tensors as shape ``(1,)``; one tensor in, one out, else a tuple."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Any) -> Any:
    """``torch.atleast_2d``: 0-d as ``(1, 1)``, 1-d ``(n,)`` as ``(1, n)``."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Any) -> Any:
    """``torch.atleast_3d``: 1-d ``(n,)`` as ``(1, n, 1)``, 2-d ``(m, n)`` as ``(m, n, 1)``."""
    return _atleast(tensors, 3)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """``torch.hstack``: 1-d tensors joined end to end, others along dim 1."""
    ts = list(atleast_1d(list(_tensors(tensors, "hstack"))))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """``torch.vstack`` (``row_stack``): joined along dim 0 after :func:`atleast_2d`."""
    return cat(list(atleast_2d(list(_tensors(tensors, "vstack")))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Any]) -> Tensor:
    """``torch.dstack``: joined along dim 2 after :func:`atleast_3d`."""
    return cat(list(atleast_3d(list(_tensors(tensors, "dstack")))), 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """``torch.column_stack``: 0-d and 1-d tensors as columns, joined along dim 1."""
    ts = [reshape(t, (t.data.size, 1)) if t.ndim <= 1 else t for t in _tensors(tensors, "column_stack")]
    return cat(ts, 1)


def _split_points(value: Any) -> tuple[int | None, list[int] | None]:
    """tensor_split's argument as (sections, None) or (None, indices)."""
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu" or value.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor of integers, got {value.shape} {value.dtype}"
            )
        value = int(value.item()) if value.ndim == 0 else [int(v) for v in value.data]
    if isinstance(value, (int, np.integer)):
        return int(value), None
    return None, [int(v) for v in value]


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.tensor_split``: ``sections`` nearly equal pieces (the first ones one larger), or the pieces
    between the given ``indices`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    d = _axis(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    sections, indices = _split_points(indices_or_sections)
    if sections is not None:
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [base + (i < extra) for i in range(sections)]).tolist()
    else:
        bounds = [0, *indices, n]
    out = []
    for lo, hi in itertools.pairwise(bounds):
        lo = min(max(lo + n if lo < 0 else lo, 0), n)
        hi = min(max(hi + n if hi < 0 else hi, 0), n)
        key = (slice(None),) * d + (slice(lo, max(lo, hi)),)
        out.append(getitem(input, key))
    return tuple(out)


def _directional_split(x: Tensor, sections: Any, dim: int, need: int, op: str) -> tuple[Tensor, ...]:
    if x.ndim < need:
        raise RuntimeError(
            f"torch.{op} requires a tensor with at least {need} dimension, but got a tensor "
            f"with {x.ndim} dimensions!"
        )
    if isinstance(sections, (int, np.integer)) and (sections == 0 or x.shape[dim] % int(sections)):
        raise RuntimeError(
            f"torch.{op} attempted to split along dimension {dim}, but the size of the "
            f"dimension {x.shape[dim]} is not divisible by the split_size {sections}!"
        )
    return tensor_split(x, sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.hsplit``: :func:`tensor_split` along dim 1 (dim 0 for 1-d tensors); ints must divide."""
    return _directional_split(input, indices_or_sections, 0 if input.ndim == 1 else 1, 1, "hsplit")


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.vsplit``: :func:`tensor_split` along dim 0 of a tensor with at least 2 dims."""
    return _directional_split(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.dsplit``: :func:`tensor_split` along dim 2 of a tensor with at least 3 dims."""
    return _directional_split(input, indices_or_sections, 2, 3, "dsplit")


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.split_with_sizes``: pieces of the given sizes (which must add up to the dim's size)."""
    try:
        return split(input, [int(s) for s in split_sizes], dim)
    except ValueError as e:
        raise ShapeError(str(e)) from None


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.unsafe_split``: :func:`split` (chainrule's pieces are safe already)."""
    return split(input, split_size, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``torch.unsafe_chunk``: :func:`chunk`."""
    return chunk(input, chunks, dim)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """``torch.meshgrid``: N 1-d tensors broadcast to an N-d grid; ``indexing`` ``'ij'`` (the default) or
    ``'xy'`` (the first two dims swapped, as NumPy)."""
    ts, _ = _unpack(tensors)
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    if any(t.ndim > 1 for t in ts):
        raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list")
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype")
    ts = [reshape(t, (-1,)) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = [
        broadcast_to(reshape(t, tuple(-1 if j == i else 1 for j in range(len(ts)))), shape)
        for i, t in enumerate(ts)
    ]
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """``torch.broadcast_shapes``: the shape the given shapes broadcast to (RuntimeError when they don't)."""
    norm = [(int(s),) if isinstance(s, (int, np.integer)) else tuple(int(v) for v in s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {norm} cannot be broadcast together") from None


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """``torch.broadcast_tensors``: the tensors broadcast to their common shape (read-only views)."""
    ts, _ = _unpack(tensors)
    shape = broadcast_shapes(*(t.shape for t in ts))
    return tuple(broadcast_to(t, shape) for t in ts)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.fliplr``: columns (dim 1) in reverse order."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.flipud``: rows (dim 0) in reverse order."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``torch.kron``: the Kronecker product (each entry of ``input`` times a block ``other``)."""
    a, b = input, other
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    a = reshape(a, tuple(v for s in sa for v in (s, 1)))
    b = reshape(b, tuple(v for s in sb for v in (1, s)))
    return reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))


def _contracted(a: Tensor, b: Tensor, dims: Any) -> tuple[list[int], list[int]]:
    if isinstance(dims, Tensor):
        dims = dims.data.tolist()
    if isinstance(dims, (int, np.integer)):
        k = int(dims)
        if k < 0 or k > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims >= 0 and <= {min(a.ndim, b.ndim)}, got {k}")
        return list(range(a.ndim - k, a.ndim)), list(range(k))
    da, db = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
    da = [_axis(int(d), a.ndim, "tensordot") for d in da]
    db = [_axis(int(d), b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{i} and second has size {b.shape[j]} in dim {j}"
            )
    return da, db


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """``torch.tensordot``: the sum over the last ``dims`` dims of ``a`` and first of ``b`` (or over the
    listed dim pairs)."""
    if out is not None:
        raise TypeError("tensordot: out= is not supported")
    da, db = _contracted(a, b, dims)
    for i, j in zip(da, db):  # a size-1 dim against a larger one: torch sums the other side first
        if a.shape[i] != b.shape[j]:
            if a.shape[i] == 1:
                b = b.sum(j, keepdim=True)
            else:
                a = a.sum(i, keepdim=True)
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da]))
    a2 = reshape(permute(a, tuple(fa + da)), (int(np.prod([a.shape[d] for d in fa])), k))
    b2 = reshape(permute(b, tuple(db + fb)), (k, int(np.prod([b.shape[d] for d in fb]))))
    return reshape(matmul(a2, b2), tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``torch.inner``: the sum over the last dims (a product when either is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{input.shape} and {other.shape}"
        )
    return tensordot(input, other, ([-1], [-1]))


def block_diag(*tensors: Tensor) -> Tensor:
    """``torch.block_diag``: the tensors (0-d, 1-d as a row, 2-d) as blocks down a diagonal, zeros around."""
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if any(t.ndim > 2 for t in ts):
        bad = next(i for i, t in enumerate(ts) if t.ndim > 2)
        raise RuntimeError(
            f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {bad} "
            f"has {ts[bad].ndim} dimensions"
        )
    if not ts:
        return Tensor(np.zeros((1, 0), dtype=np.float32))
    ts = _same_dtype([reshape(t, (1, t.data.size)) if t.ndim < 2 else t for t in ts])
    cols = sum(t.shape[1] for t in ts)
    rows, at = [], 0
    for t in ts:
        rows.append(pad(t, (at, cols - at - t.shape[1])))
        at += t.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """``torch.cartesian_prod``: every combination of one entry from each 1-d tensor, as rows."""
    ts, _ = _unpack(tensors)
    if any(t.ndim != 1 for t in ts):
        raise RuntimeError("cartesian_prod: expect a 1D vector")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*_same_dtype(ts), indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """``torch.combinations``: the length-``r`` combinations of a 1-d tensor's entries, as rows."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return reshape(input, (-1,))[0:0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1)
    return reshape(index_select(input, 0, idx), (-1, r))
