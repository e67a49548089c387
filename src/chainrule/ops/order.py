"""Order statistics: ``kthvalue``, ``median``, ``nanmedian``, ``mode``, ``quantile``, ``nanquantile``,
``msort``.

The ``dim`` forms return ``(values, indices)`` and send the gradient to the selected element, as torch; the
full ``median``/``nanmedian`` share it evenly among the elements equal to the result (NaN counts as equal to
NaN there), as torch's ``evenly_distribute_backward``. NaN sorts last; ``median`` of a row with a NaN is NaN
(at the first NaN), ``nanmedian`` skips NaNs.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.ops.reduce import _expand_back, normalize_axes, sort, take_along_dim
from chainrule.tensor import Tensor, _new

KthvalueResult = namedtuple("KthvalueResult", ["values", "indices"])
MedianResult = namedtuple("MedianResult", ["values", "indices"])
ModeResult = namedtuple("ModeResult", ["values", "indices"])


def _axis(x: Tensor, dim: int, op: str) -> int:
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return normalize_axes(dim, x.ndim, op)[0] if x.ndim else 0


def _pick(x: Tensor, pos: np.ndarray, ax: int, keepdim: bool, result: type) -> Any:
    """``(values, indices)`` for ``pos``, indices along ``ax`` kept as a length-1 axis."""
    if x.ndim == 0:
        return result(_scalar_copy(x), _new(np.zeros((), dtype=np.int64)))  # a 0-d tensor selects itself
    values = take_along_dim(x, pos, ax)
    idx = pos.astype(np.int64)
    if not keepdim:
        values, idx = values.squeeze(ax), np.squeeze(idx, ax)
    return result(values, _new(backend.ensure_array(idx)))


def _scalar_copy(x: Tensor) -> Tensor:
    from chainrule.ops.elementwise import clone  # noqa: PLC0415

    return clone(x)


def _sorted_order(data: np.ndarray, ax: int) -> np.ndarray:
    return np.argsort(data, axis=ax, kind="stable")  # NaN last, ties in their order


def _check_nonempty(x: Tensor, ax: int, op: str) -> None:
    if x.ndim and x.shape[ax] == 0:
        raise IndexError(f"{op}(): expected reduction dim {ax} to have non-zero size (shape {x.shape})")


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> KthvalueResult:
    """The ``k``-th smallest value along ``dim`` (1-based) and its index: ``torch.kthvalue``."""
    ax = _axis(x, dim, "kthvalue")
    n = x.shape[ax] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k ({k}) out of range for dim {dim} of size {n}")
    if x.ndim == 0:
        return _pick(x, None, 0, keepdim, KthvalueResult)
    order = _sorted_order(x.data, ax)
    pos = np.take(order, [k - 1], axis=ax)
    return _pick(x, pos, ax, keepdim, KthvalueResult)


def _median_positions(data: np.ndarray, ax: int, skip_nan: bool) -> np.ndarray:
    order = _sorted_order(data, ax)
    n = data.shape[ax]
    nans = np.isnan(data).sum(axis=ax, keepdims=True) if data.dtype.kind == "f" else np.zeros((), int)
    if skip_nan:  # the lower median of the non-NaN values (the first NaN when all are NaN)
        rank = np.maximum(n - nans - 1, 0) // 2
    else:  # a NaN makes the median NaN: the first NaN, which sorts right after the numbers
        rank = np.where(nans > 0, n - nans, (n - 1) // 2)
    rank = np.broadcast_to(rank, tuple(1 if i == ax else s for i, s in enumerate(data.shape)))
    return np.take_along_axis(order, rank.astype(np.intp), axis=ax)


def _median(x: Tensor, dim: Any, keepdim: bool, skip_nan: bool, op: str) -> Any:
    if dim is None:
        if x.data.size == 0:
            return _new(np.full((), np.nan, dtype=x.dtype))
        flat = x.data.reshape(-1)
        pos = _median_positions(flat, 0, skip_nan)
        return EvenlyShared(flat[pos[0]])(x)
    ax = _axis(x, dim, op)
    if x.ndim == 0:
        return _pick(x, None, 0, keepdim, MedianResult)
    _check_nonempty(x, ax, op)
    return _pick(x, _median_positions(x.data, ax, skip_nan), ax, keepdim, MedianResult)


def median(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """``median(x)``: the lower median of all elements (NaN if any is NaN); ``median(x, dim)``:
    ``(values, indices)`` along ``dim``."""
    return _median(x, dim, keepdim, False, "median")


def nanmedian(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """``median`` ignoring NaNs (NaN only where every element is NaN)."""
    return _median(x, dim, keepdim, True, "nanmedian")


class EvenlyShared(Function):
    """A full reduction whose value is ``value``, an element of ``x``: the gradient is shared evenly by the
    elements equal to it (NaN elements when it is NaN), as torch's ``evenly_distribute_backward``."""

    def __init__(self, value: Any):
        self.value = value

    def forward(self, x):
        return np.asarray(self.value, dtype=x.dtype).reshape(())

    def backward(self, gy):
        (x,) = self.inputs
        v = self.value
        mask = np.isnan(x.data) if np.isnan(v) else x.data == v
        share = (mask / mask.sum()).astype(x.dtype)
        return _expand_back(gy, x.shape, None, False) * _new(share)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ModeResult:
    """The most frequent value along ``dim`` (the smallest on ties) and the index of its last occurrence,
    as torch (each NaN counts once)."""
    ax = _axis(x, dim, "mode")
    if x.ndim == 0:
        return _pick(x, None, 0, keepdim, ModeResult)
    _check_nonempty(x, ax, "mode")
    moved = np.moveaxis(x.data, ax, -1)
    order = _sorted_order(moved, -1)
    s = np.take_along_axis(moved, order, -1)
    n = s.shape[-1]
    # run ids: a new run starts where a value differs from the previous one (NaN never equals anything)
    start = np.concatenate([np.ones_like(s[..., :1], dtype=bool), s[..., 1:] != s[..., :-1]], -1)
    run = np.cumsum(start, -1) - 1
    counts = np.zeros(s.shape, dtype=np.int64)
    np.put_along_axis(counts, run, 0, -1)
    rows = counts.reshape(-1, n)
    for r, ids in zip(rows, run.reshape(-1, n)):
        np.add.at(r, ids, 1)
    best = np.argmax(counts, -1)[..., None]  # the first (smallest) of the most frequent runs
    last = n - 1 - np.argmax(np.flip(run == best, -1), -1)[..., None]  # its last element in sorted order
    pos = np.moveaxis(np.take_along_axis(order, last, -1), -1, ax)
    return _pick(x, pos, ax, keepdim, ModeResult)


def msort(x: Tensor) -> Tensor:
    """``x`` sorted along its first dimension (``torch.msort``)."""
    return sort(x, 0).values


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """The ``q``-th quantiles of ``x`` along ``dim`` (all elements by default); NaN where the row has a NaN.
    A 1-d ``q`` adds a leading dimension; the gradient flows to the (one or two) elements interpolated."""
    return _quantile(x, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(
    x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """``quantile`` ignoring NaNs (NaN only where every element of the row is NaN)."""
    return _quantile(x, q, dim, keepdim, interpolation, True, "nanquantile")


def _q_values(x: Tensor, q: Any, op: str) -> tuple[np.ndarray, bool]:
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got {q.ndim} dimensions")
        if q.dtype != x.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input ({q.dtype} vs {x.dtype})")
        qs, vector = q.data.reshape(-1).astype(np.float64), q.ndim == 1
    else:
        qs, vector = np.asarray([float(q)]), False
    if not np.all((qs >= 0) & (qs <= 1)):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1], got {qs.tolist()}")
    return qs, vector


def _quantile(x: Tensor, q: Any, dim: Any, keepdim: bool, how: str, skip_nan: bool, op: str) -> Tensor:
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {x.dtype}")
    if how not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}, got {how!r}")
    qs, vector = _q_values(x, q, op)
    if dim is None:
        rows, out_shape = x.reshape(1, -1), (1,) * x.ndim if keepdim else ()
    else:
        ax = _axis(x, dim, op)
        moved = x.permute(*[i for i in range(x.ndim) if i != ax], ax) if x.ndim else x.reshape(1)
        rows = moved.reshape(-1, moved.shape[-1])
        kept = tuple(1 if i == ax else s for i, s in enumerate(x.shape))
        out_shape = kept if keepdim else tuple(s for i, s in enumerate(x.shape) if i != ax)
    if rows.shape[-1] == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    ordered = sort(rows, -1).values  # NaN last; differentiable through the gather
    qt = q.reshape(1, -1) if isinstance(q, Tensor) and q.requires_grad else None  # the weights depend on q
    out = _interpolate(ordered, qs, qt, how, skip_nan, x.dtype)  # (rows, len(qs))
    out = out.transpose(0, 1).reshape((len(qs), *out_shape))
    return out if vector else out.reshape(out_shape)


def _interpolate(
    ordered: Tensor, qs: np.ndarray, qt: Tensor | None, how: str, skip_nan: bool, dtype: Any
) -> Tensor:
    """torch's quantile_compute: ranks q·(n - 1) on each sorted row (n: the non-NaN count for nanquantile;
    the last index where a row has a NaN for quantile), then lower/higher/nearest, or a lerp whose weight
    is differentiable in ``q`` (``qt``, when q is a tensor that requires grad)."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    nans = np.isnan(ordered.data)
    n = nans.shape[-1]
    if skip_nan:
        scale = (~nans).sum(-1, keepdims=True) - 1
        fixed = scale < 0  # an all-NaN row: rank 0, a NaN
    else:
        scale = np.full((nans.shape[0], 1), n - 1)
        fixed = nans.any(-1, keepdims=True)  # rank n - 1: the NaN that sorted last
    fixed_rank = 0 if skip_nan else n - 1
    ranks = np.where(fixed, fixed_rank, (qs[None, :].astype(dtype) * scale.astype(dtype))).astype(dtype)
    if how == "lower":
        ranks = np.floor(ranks)
    elif how == "higher":
        ranks = np.ceil(ranks)
    elif how == "nearest":
        ranks = np.round(ranks)  # half to even, as torch's round
    below = ranks.astype(np.int64)
    lo = take_along_dim(ordered, below, 1)
    if how not in ("linear", "midpoint"):
        return lo
    hi = take_along_dim(ordered, np.ceil(ranks).astype(np.int64), 1)
    if how == "midpoint":
        return _lerp(lo, hi, np.full_like(ranks, 0.5))
    if qt is None:
        return _lerp(lo, hi, (ranks - below).astype(dtype))
    w = where(
        np.broadcast_to(fixed, ranks.shape), 0.0, qt * _new(scale.astype(dtype)) - _new(below.astype(dtype))
    )
    return _lerp(lo, hi, w)


def _lerp(a: Tensor, b: Tensor, w: Any) -> Tensor:
    """torch's lerp: a + w (b - a) for w < 0.5, b - (b - a)(1 - w) otherwise (exact at both ends)."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    d = b - a
    wd = w.data if isinstance(w, Tensor) else w
    wt = w if isinstance(w, Tensor) else _new(np.asarray(w))
    return where(wd < 0.5, a + d * wt, b - d * (1 - wt))
