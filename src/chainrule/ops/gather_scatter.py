"""Gather and scatter along a dim: ``gather``, ``scatter``, ``scatter_add``, ``scatter_reduce`` and the
``index_*`` family built on them (``index_copy``, ``index_fill``, ``index_reduce``), with in-place forms.

An ``index`` names, for every one of its own positions, a position along ``dim`` of the output; its other
dims may be shorter than the input's (torch's rule), so positions are the full grid of ``index``'s shape.
Gradients follow torch's formulas (``scatter_reduce_backward``): ``amax``/``amin`` split the gradient evenly
among ties, ``prod`` is exact with one zero per group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.tensor import Tensor, _new

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _grid(idx: Any, dim: int) -> tuple[Any, ...]:
    """Output positions for every entry of ``idx``: ``idx`` along ``dim``, the entry's own coordinate else."""
    xp = backend.get_array_module(idx)
    n = idx.ndim
    return tuple(
        idx if d == dim else xp.arange(s).reshape([s if i == d else 1 for i in range(n)])
        for d, s in enumerate(idx.shape)
    )


class Gather(Function):
    """``out[pos] = x[grid(index)]``; the adjoint of :class:`ScatterAddTo`."""

    uses_inputs = False

    def __init__(self, dim: int, idx: Any, shape: tuple[int, ...]):
        self.dim, self.idx, self.shape = dim, idx, shape

    def forward(self, x):
        return x[_grid(self.idx, self.dim)]

    def backward(self, gy):
        return ScatterAddTo(self.dim, self.idx, self.shape)(gy)


class ScatterAddTo(Function):
    """Zeros of ``shape`` with ``src`` added at ``grid(index)`` (repeated positions add up)."""

    uses_inputs = False

    def __init__(self, dim: int, idx: Any, shape: tuple[int, ...]):
        self.dim, self.idx, self.shape = dim, idx, shape

    def forward(self, src):
        out = backend.zeros(self.shape, src.dtype, src)
        backend.scatter_add(out, _grid(self.idx, self.dim), src)
        return out

    def backward(self, g):
        return Gather(self.dim, self.idx, self.shape)(g)


def _hit(dim: int, idx: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A bool array of ``shape``, True where ``index`` writes."""
    mask = np.zeros(shape, dtype=bool)
    mask[_grid(idx, dim)] = True
    return mask


class ScatterSet(Function):
    """``x`` with ``src`` written at ``grid(index)`` (torch's ``scatter`` without ``reduce``)."""

    uses_inputs = False

    def __init__(self, dim: int, idx: Any):
        self.dim, self.idx = dim, idx

    def forward(self, x, src):
        self.shape = x.shape
        out = x.copy()
        out[_grid(self.idx, self.dim)] = src
        return out

    def backward(self, gy):
        from chainrule.ops.elementwise import where  # noqa: PLC0415

        keep = where(_hit(self.dim, self.idx, self.shape), 0.0, gy)
        return keep, Gather(self.dim, self.idx, self.shape)(gy)


_AT = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce: str, dtype: Any) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


def _counts(dim: int, idx: Any, shape: tuple[int, ...], include_self: bool) -> np.ndarray:
    """How many values each output position averages (at least 1, as torch's ``mean``)."""
    n = np.full(shape, 1 if include_self else 0, dtype=np.int64)
    np.add.at(n, _grid(idx, dim), 1)
    return np.maximum(n, 1)


class ScatterReduce(Function):
    uses_outputs = True

    def __init__(self, dim: int, idx: Any, reduce: str, include_self: bool):
        self.dim, self.idx, self.reduce, self.include_self = dim, idx, reduce, include_self

    def forward(self, x, src):
        grid = _grid(self.idx, self.dim)
        out = x.copy()
        if not self.include_self:
            out[grid] = _identity(self.reduce, x.dtype)
        if self.reduce in ("sum", "mean"):
            backend.scatter_add(out, grid, src)  # CuPy too
        else:
            _AT[self.reduce].at(out, grid, src)
        if self.reduce == "mean":
            n = _counts(self.dim, self.idx, x.shape, self.include_self)
            out = out / n if out.dtype.kind == "f" else out // n
        return out.astype(x.dtype, copy=False)

    def backward(self, gy):
        from chainrule.ops.elementwise import where  # noqa: PLC0415

        x, src = self.inputs
        gx, gsrc = _reduce_grads(self, x, src, self.outputs[0], gy)
        if not self.include_self:
            gx = where(_hit(self.dim, self.idx, x.shape), 0.0, gx)
        return gx, gsrc


def _reduce_grads(f: ScatterReduce, x: Tensor, src: Tensor, out: Tensor, gy: Tensor) -> tuple[Tensor, Tensor]:
    """torch's ``scatter_reduce_backward`` for one reduction, written with differentiable ops."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    dim, idx, grid = f.dim, f.idx, _grid(f.idx, f.dim)

    def gather(t: Tensor) -> Tensor:
        return Gather(dim, idx, x.shape)(t)

    if f.reduce == "sum":
        return gy, gather(gy)
    if f.reduce == "mean":
        n = _counts(dim, idx, x.shape, f.include_self).astype(gy.dtype)
        return gy / _new(n), gather(gy) / _new(n[grid])
    if f.reduce in ("amax", "amin"):
        self_is = (x.data == out.data).astype(gy.dtype)
        src_is = (src.data == out.data[grid]).astype(gy.dtype)
        n = self_is.copy()
        np.add.at(n, grid, src_is)
        shared = gy / _new(n)
        return shared * _new(self_is), gather(shared) * _new(src_is)
    # prod: leave-one-out products, exact where a group holds one zero (torch's formula)
    masked_x = where(x.data == 0, 1.0, x)
    gx = gy * ScatterReduce(dim, idx, "prod", f.include_self)(masked_x, src) / masked_x
    zero = src.data == 0
    zeros_in_group = np.zeros(x.shape, dtype=np.int64)
    np.add.at(zeros_in_group, grid, zero)
    single = zero & (zeros_in_group[grid] == 1)
    masked_src = where(single, 1.0, src)
    without = ScatterReduce(dim, idx, "prod", f.include_self)(x, masked_src)
    gsrc = where(single, gather(gy * without), gather(gy * out) / where(zero, 1.0, src))
    return gx, gsrc


# ---------------------------------------------------------------------------- argument checks
def _index_array(index: Any, op: str) -> Any:
    idx = index.data if isinstance(index, Tensor) else backend.asarray(index, like=index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 or int32 for index, got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _prepare(op: str, x: Tensor, dim: int, index: Any, src: Any = None) -> tuple[Any, ...]:
    """(x as >= 1-d, the dim, the index array, src as >= 1-d cropped to the index's shape)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    idx = backend.to_device_of(_index_array(index, op), x.data)
    x1 = x.reshape(1) if x.ndim == 0 else x
    n = x1.ndim
    if not -n <= dim < n:
        raise IndexError(f"{op}(): dim {dim} is out of range for a tensor of {x.ndim} dims")
    dim = int(dim) % n
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if idx.ndim != n:
        raise ValueError(  # ValueError as chainrule's other shape checks (torch: RuntimeError)
            f"{op}(): index has {idx.ndim} dims but the input has {n}: Index tensor must have the same "
            "number of dimensions as self tensor"
        )
    for d in range(n):
        if d != dim and idx.shape[d] > x1.shape[d]:
            raise RuntimeError(f"{op}(): index {tuple(idx.shape)} is larger than self {x.shape} in dim {d}")
    if idx.size and (idx.min() < 0 or idx.max() >= x1.shape[dim]):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(
            f"{op}(): index {bad} is out of bounds for dimension {dim} with size {x1.shape[dim]}"
        )
    if src is None:
        return x1, dim, idx, None
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})")
    s1 = src.reshape(1) if src.ndim == 0 else src
    if s1.ndim != n or any(i > s for i, s in zip(idx.shape, s1.shape)):
        raise RuntimeError(f"{op}(): index {tuple(idx.shape)} is larger than src {src.shape}")
    if s1.shape != idx.shape:  # only the leading block of src is used: the rest gets a zero gradient
        s1 = s1[tuple(slice(0, k) for k in idx.shape)]
    return x1, dim, idx, s1


def _back(out: Tensor, x: Tensor) -> Tensor:
    return out.reshape(()) if x.ndim == 0 else out


def _no_out(op: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"{op}(): out= is not supported")


# ---------------------------------------------------------------------------- ops
def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False, out: Any = None) -> Tensor:
    """torch's ``gather``: ``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (the index's shape)."""
    _no_out("gather", out)
    idx = _index_array(index, "gather")
    if idx.size == 0:  # torch accepts an empty index of any shape: an empty result of that shape
        return input.reshape(-1)[np.zeros(0, dtype=np.int64)].reshape(idx.shape)
    x1, dim, idx, _ = _prepare("gather", input, dim, index)
    res = Gather(dim, idx, x1.shape)(x1)
    return res.reshape(()) if np.ndim(index.data if isinstance(index, Tensor) else index) == 0 else res


def _src_of(op: str, x: Tensor, src: Any, value: Any) -> Any:
    if value is not None:
        if src is not None:
            raise TypeError(f"{op}(): pass src or value, not both")
        return value
    if src is None:
        raise TypeError(f"{op}(): missing src (a Tensor) or value (a number)")
    return src


def scatter(
    input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None
) -> Tensor:
    """torch's ``scatter``: a copy of ``input`` with ``src`` (a Tensor or a number) written at ``index``
    along ``dim``; ``reduce='add'``/``'multiply'`` (legacy) add or multiply instead."""
    src = _src_of("scatter", input, src, value)
    if not isinstance(src, Tensor):
        idx = _index_array(index, "scatter")
        src = _new(backend.asarray(np.full(idx.shape, src), input.dtype, input.data))
    if reduce is not None:
        kinds = {"add": "sum", "multiply": "prod"}
        if reduce not in kinds:
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        return scatter_reduce(input, dim, index, src, kinds[reduce])
    x1, dim, idx, s1 = _prepare("scatter", input, dim, index, src)
    return _back(ScatterSet(dim, idx)(x1, s1), input)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """torch's ``scatter_add``: ``input`` plus ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    x1, dim, idx, s1 = _prepare("scatter_add", input, dim, index, src)
    return _back(x1 + ScatterAddTo(dim, idx, x1.shape)(s1), input)


def scatter_reduce(
    input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """torch's ``scatter_reduce``: ``src`` reduced into ``input`` at ``index`` along ``dim`` with
    ``reduce`` in ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``; ``include_self=False`` leaves the
    written positions' old values out."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of {_REDUCES}, got {reduce!r}")
    x1, dim, idx, s1 = _prepare("scatter_reduce", input, dim, index, src)
    return _back(ScatterReduce(dim, idx, reduce, bool(include_self))(x1, s1), input)


# ---------------------------------------------------------------------------- index_* (1-d index along dim)
def _along(op: str, x: Tensor, dim: int, index: Any, source: Tensor) -> tuple[int, Any]:
    """A 1-d ``index`` along ``dim`` as a full scatter index of ``source``'s shape."""
    idx = _index_array(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): index should have dimension 1 or 0, got {idx.ndim}")
    idx = idx.reshape(-1)
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}(): dim {dim} is out of range for a tensor of {x.ndim} dims")
    dim = int(dim) % n
    shape = source.shape if source.ndim else (1,)
    if len(shape) != n or shape[dim] != idx.size:
        raise RuntimeError(
            f"{op}(): source {source.shape} must have the dims of self {x.shape} and {idx.size} entries "
            f"(the index's length) along dim {dim}"
        )
    full = np.broadcast_to(idx.reshape([-1 if d == dim else 1 for d in range(n)]), shape)
    return dim, np.ascontiguousarray(full)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """torch's ``index_copy``: ``input`` with ``source``'s slices written at ``index`` along ``dim``."""
    dim, full = _along("index_copy", input, dim, index, source)
    return scatter(input, dim, full, source)


def index_reduce(
    input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """torch's ``index_reduce``: ``source``'s slices reduced into ``input`` at ``index`` along ``dim`` with
    ``reduce`` in ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"index_reduce(): reduce argument must be one of prod, mean, amax, amin, got {reduce!r}"
        )
    dim, full = _along("index_reduce", input, dim, index, source)
    return scatter_reduce(input, dim, full, source, reduce, include_self=include_self)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """torch's ``index_fill``: ``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number
    or a 0-d tensor, which then gets the sum of their gradients)."""
    from chainrule.ops.index import masked_fill  # noqa: PLC0415

    idx = _index_array(index, "index_fill")
    if idx.ndim > 1:
        raise IndexError(f"index_fill(): index should have dimension 1 or 0, got {idx.ndim}")
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"index_fill(): dim {dim} is out of range for a tensor of {input.ndim} dims")
    dim = int(dim) % n
    size = input.shape[dim] if input.ndim else 1
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise IndexError(f"index_fill(): index out of range for dimension {dim} with size {size}")
    hit = np.zeros(size, dtype=bool)
    hit[idx] = True
    mask = hit.reshape([-1 if d == dim else 1 for d in range(input.ndim)]) if input.ndim else hit.reshape(())
    return masked_fill(input, np.broadcast_to(mask, input.shape), value)


# ---------------------------------------------------------------------------- in-place forms
def in_place(t: Tensor, op: str, other: Any, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Replace ``t`` by ``compute(t)`` in place (:func:`chainrule.ops.inplace.inplace_op`); ``other`` is the
    tensor argument that may require grad. Through a copy node: an op whose backward reads its own output
    (scatter_reduce's amax/prod) keeps it unchanged."""
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

    return inplace_op(t, op, compute, other)


def scatter_(
    self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None
) -> Tensor:
    """In-place :func:`scatter`."""
    return in_place(self, "scatter_", src, lambda t: scatter(t, dim, index, src, value=value, reduce=reduce))


def scatter_add_(self: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """In-place :func:`scatter_add`."""
    return in_place(self, "scatter_add_", src, lambda t: scatter_add(t, dim, index, src))


def scatter_reduce_(
    self: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place :func:`scatter_reduce`."""
    return in_place(
        self,
        "scatter_reduce_",
        src,
        lambda t: scatter_reduce(t, dim, index, src, reduce, include_self=include_self),
    )


def index_copy_(self: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """In-place :func:`index_copy`."""
    return in_place(self, "index_copy_", source, lambda t: index_copy(t, dim, index, source))


def index_fill_(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """In-place :func:`index_fill`."""
    return in_place(self, "index_fill_", value, lambda t: index_fill(t, dim, index, value))


def index_reduce_(
    self: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place :func:`index_reduce`."""
    return in_place(
        self,
        "index_reduce_",
        source,
        lambda t: index_reduce(t, dim, index, source, reduce, include_self=include_self),
    )
