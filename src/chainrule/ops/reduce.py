"""Reductions. ``dim``/``axis`` may be an int, a tuple, negative, or None; ``keepdim``/``keepdims`` both work.

Ties in ``amax``/``amin`` (and full ``max``/``min``) share the gradient evenly, as in ``torch.amax``;
``max(dim=...)`` returns ``(values, indices)`` and sends the gradient to the chosen index (``torch.max``).
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.ops.elementwise import exp
from chainrule.ops.shape import expand_grad
from chainrule.tensor import Tensor, _new

_MISSING = object()
_add_reduce = np.add.reduce


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, an int or a tuple of ints (negatives allowed) -> sorted tuple of non-negative axes."""
    if axis is None:
        return None
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {axis!r}") from None
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {type(a).__name__}")
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise IndexError(f"{op}: dim {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {axis} repeats an axis")
    return tuple(sorted(out)) if ndim else None


def _dim_args(op: str, ndim: int, dim: Any, axis: Any, keepdim: Any, keepdims: Any) -> tuple[Any, bool]:
    if dim is not _MISSING and axis is not _MISSING:
        raise TypeError(f"{op}: pass dim or axis, not both")
    chosen = dim if dim is not _MISSING else (None if axis is _MISSING else axis)
    keep = keepdims if keepdim is _MISSING else keepdim
    return normalize_axes(chosen, ndim, op), bool(False if keep is _MISSING else keep)


def _keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _expand_back(gy: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool) -> Any:
    """Spread a reduction's gradient (an array or a Tensor) back over the reduced axes."""
    if not keepdims and gy.ndim:  # a 0-d gradient broadcasts as it is
        target = _keepdims_shape(shape, axes)
        if target != gy.shape:
            gy = gy.reshape(target)
    return expand_grad(gy, shape)


class Sum(Function):
    uses_inputs = False
    rule_takes_arrays = True

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.in_shape = x.shape
        if x.__class__ is np.ndarray:  # what ndarray.sum calls, minus its Python wrapper
            if self.axes is None and not self.keepdims:  # a 0-d array, not a NumPy scalar to convert back
                return _add_reduce(x, None, None, None, True).reshape(())
            return _add_reduce(x, self.axes, None, None, self.keepdims)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return _expand_back(gy, self.in_shape, self.axes, self.keepdims)


class AMax(Function):
    """Max over axes; tied maxima share the gradient evenly."""

    uses_outputs = True

    def __init__(self, axes, keepdims, fn=np.max):
        self.axes, self.keepdims, self.fn = axes, keepdims, fn

    def forward(self, x):
        return self.fn(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.inputs
        y = self.outputs[0].data
        if not self.keepdims:
            y = y.reshape(_keepdims_shape(x.shape, self.axes))
        mask = (x.data == y).astype(gy.dtype)
        mask /= mask.sum(axis=self.axes, keepdims=True)
        return _expand_back(gy, x.shape, self.axes, self.keepdims) * _new(mask)


class LogSumExp(Function):
    uses_outputs = True

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    @silently
    def forward(self, x):
        if x.size == 0:  # torch: the logsumexp of nothing is log(0) = -inf
            m = np.zeros_like(np.sum(x, axis=self.axes, keepdims=True))
        else:
            m = np.max(x, axis=self.axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
        # a row of -inf gives log(0) = -inf, silently, as in torch
        y = np.log(np.sum(np.exp(x - m), axis=self.axes, keepdims=True)) + m
        return y if self.keepdims else y.reshape(np.sum(x, axis=self.axes).shape)

    def backward(self, gy):
        (x,) = self.inputs
        y = self.outputs[0]
        # a row of -inf gives exp(-inf - -inf) = nan, silently, as in torch
        return _expand_back(gy, x.shape, self.axes, self.keepdims) * exp(
            x - _expand_back(y, x.shape, self.axes, self.keepdims)
        )


class Prod(Function):
    uses_outputs = True

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return np.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.inputs
        g = _expand_back(gy, x.shape, self.axes, self.keepdims)
        if np.all(x.data != 0):
            y = _expand_back(self.outputs[0], x.shape, self.axes, self.keepdims)
            return g * y / x
        if _grad_state.grad_enabled:  # create_graph: the leave-one-out product must itself be differentiable
            return g * _prod_of_others_graph(x, self.axes)
        return g * _new(_prod_of_others(x.data, self.axes))


def _prod_of_others_graph(x: Tensor, axes: tuple[int, ...] | None) -> Tensor:
    """``_prod_of_others`` from differentiable ops: each group of m elements is repeated m times with 1 on the
    diagonal, then multiplied out (m times the memory; only used for higher-order gradients through zeros)."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415
    from chainrule.ops.shape import broadcast_to, permute, reshape, unsqueeze  # noqa: PLC0415

    axes = tuple(range(x.ndim)) if axes is None else axes
    order = tuple(a for a in range(x.ndim) if a not in axes) + axes
    moved = permute(x, order)
    lead = moved.shape[: x.ndim - len(axes)]
    m = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    rows = broadcast_to(unsqueeze(reshape(moved, (*lead, m)), -2), (*lead, m, m))
    others = Prod((len(lead) + 1,), False)(where(np.eye(m, dtype=bool), 1.0, rows))
    return permute(reshape(others, moved.shape), tuple(int(a) for a in np.argsort(order)))


def _prod_of_others(x: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
    """For each element, the product of the other elements in its reduction group (exact with zeros)."""
    if axes is None:
        axes = tuple(range(x.ndim))
    moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    flat = moved.reshape(*moved.shape[: x.ndim - len(axes)], -1)
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    others = (left * right).reshape(moved.shape)
    return np.moveaxis(others, tuple(range(x.ndim - len(axes), x.ndim)), axes)


class CumSum(Function):
    uses_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        if x.ndim == 0:  # np.cumsum would return shape (1,); torch keeps a 0-d tensor 0-d
            return x.copy()
        return np.cumsum(x, axis=self.axis)

    def backward(self, gy):
        from chainrule.ops.shape import flip  # noqa: PLC0415

        if gy.ndim == 0:
            return gy
        return flip(cumsum(flip(gy, self.axis), self.axis), self.axis)


# ---------------------------------------------------------------------------- function forms
def sum(
    x: Tensor,
    dim: Any = _MISSING,
    keepdim: Any = _MISSING,
    *,
    axis: Any = _MISSING,  # noqa: A001
    keepdims: Any = _MISSING,
    dtype: Any = None,
) -> Tensor:
    """Sum over ``dim`` (all by default)."""
    if (
        dim is _MISSING and axis is _MISSING and keepdim is _MISSING and keepdims is _MISSING
        and dtype is None and isinstance(x, Tensor) and x.data.dtype.kind in "fc"
    ):  # fmt: skip
        return Sum(None, False)(x)  # fast path: x.sum() of a float tensor
    axes, keep = _dim_args("sum", x.ndim, dim, axis, keepdim, keepdims)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "bi" or x.dtype.kind == "u":
        x = x.to(np.int64)
    return Sum(axes, keep)(x)


def mean(
    x: Tensor,
    dim: Any = _MISSING,
    keepdim: Any = _MISSING,
    *,
    axis: Any = _MISSING,
    keepdims: Any = _MISSING,
    dtype: Any = None,
) -> Tensor:
    """Arithmetic mean over ``dim``; ``dtype`` casts ``x`` first, as in torch."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise _DtypeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {x.dtype} (use .float() first)"
        )
    axes, keep = _dim_args("mean", x.ndim, dim, axis, keepdim, keepdims)
    return Sum(axes, keep)(x) / _count(x.shape, axes)


def var(
    x: Tensor,
    dim: Any = _MISSING,
    unbiased: bool | None = None,
    keepdim: Any = _MISSING,
    *,
    correction: float | None = None,
    axis: Any = _MISSING,
    keepdims: Any = _MISSING,
) -> Tensor:
    """Variance; unbiased (``correction=1``) by default, as in PyTorch.

    With no degrees of freedom left (``n - correction <= 0``) it is nan or inf and warns, as torch does.
    """
    return _var(x, dim, unbiased, keepdim, correction, axis, keepdims, "var")


def _var(
    x: Tensor, dim: Any, unbiased: Any, keepdim: Any, correction: Any, axis: Any, keepdims: Any, op: str
) -> Tensor:
    if isinstance(dim, (bool, np.bool_)):  # torch's overload std(unbiased): x.std(False) is not dim=0
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice ({dim!r} as the first argument, and unbiased=)")
        dim, unbiased = _MISSING, bool(dim)
    axes, keep = _dim_args(op, x.ndim, dim, axis, keepdim, keepdims)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise TypeError(f"{op}: pass correction or unbiased, not both")
    n = _count(x.shape, axes)
    dof = n - correction
    if dof > 0:
        d = x - Sum(axes, True)(x) / n
        return Sum(axes, keep)(d * d) / dof
    import warnings  # noqa: PLC0415

    warnings.warn(
        f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
        f"(input numel divided by output numel): {n} elements per result, correction={correction}",
        UserWarning,
        stacklevel=3,  # the caller of var/std
    )
    return SquaredDeviations(axes, keep, n)(x) / 0  # nan or inf, as in torch; its gradient too, silently


class SquaredDeviations(Function):
    """Σ (x - mean)² over ``axes``, with torch's gradient for ``var`` when no degrees of freedom are left (the
    incoming gradient is then ±inf): over some dims, 2 (x - mean) · gy (nan where x == mean); over all
    elements, gy where x != mean, whatever the sign of x - mean, and nan where x == mean. The chain through
    the mean would instead add inf - inf (nan, with NumPy warnings)."""

    def __init__(self, axes, keepdims, n):
        self.axes, self.keepdims, self.n = axes, keepdims, n

    @silently
    def forward(self, x):
        # the mean of nothing is nan
        d = x - np.sum(x, axis=self.axes, keepdims=True) / self.n
        return np.sum(d * d, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.inputs
        d = x - Sum(self.axes, True)(x) / self.n
        g = _expand_back(gy, x.shape, self.axes, self.keepdims)
        if self.axes is None:
            return g * _new(np.where(d.data == 0, np.nan, 1.0).astype(x.dtype, copy=False))
        return g * (d * 2)


def std(
    x: Tensor,
    dim: Any = _MISSING,
    unbiased: bool | None = None,
    keepdim: Any = _MISSING,
    *,
    correction: float | None = None,
    axis: Any = _MISSING,
    keepdims: Any = _MISSING,
) -> Tensor:
    """Standard deviation; unbiased by default (where it is 0, the gradient is 0, as in torch)."""
    return Root(2)(_var(x, dim, unbiased, keepdim, correction, axis, keepdims, "std"))


class Root(Function):
    """s ** (1/k) for s >= 0, with a zero gradient where s == 0 instead of an infinite one, as in the backward
    of torch's ``std`` and ``norm`` (the norm of a zero vector, or a constant's std, backprops 0, not nan)."""

    uses_inputs = False
    uses_outputs = True

    def __init__(self, k: float):
        self.k = k

    def forward(self, s):
        return np.sqrt(s) if self.k == 2 else s ** (1.0 / self.k)

    def backward(self, gy):
        from chainrule.ops.elementwise import where  # noqa: PLC0415

        (y,) = self.outputs
        if self.k < 1:  # 1 / (k y^(k-1)) is already 0 at y == 0 (0 ** (k-1) = inf, silently)
            return gy / (y ** (self.k - 1) * self.k)
        safe = where(y.data == 0, np.inf, y)  # d s^(1/k)/ds = 1 / (k y^(k-1))
        return gy / (safe * self.k if self.k == 2 else safe ** (self.k - 1) * self.k)


def amax(
    x: Tensor, dim: Any = _MISSING, keepdim: Any = _MISSING, *, axis: Any = _MISSING, keepdims: Any = _MISSING
) -> Tensor:
    """Max over ``dim``; tied maxima share the gradient evenly."""
    axes, keep = _dim_args("amax", x.ndim, dim, axis, keepdim, keepdims)
    _check_nonempty(x, axes, "amax")
    return AMax(axes, keep, np.max)(x)


def amin(
    x: Tensor, dim: Any = _MISSING, keepdim: Any = _MISSING, *, axis: Any = _MISSING, keepdims: Any = _MISSING
) -> Tensor:
    """Min over ``dim``; tied minima share the gradient evenly."""
    axes, keep = _dim_args("amin", x.ndim, dim, axis, keepdim, keepdims)
    _check_nonempty(x, axes, "amin")
    return AMax(axes, keep, np.min)(x)


def _check_nonempty(x: Tensor, axes: tuple[int, ...] | None, op: str) -> None:
    if x.data.size == 0 and (axes is None or builtins.any(x.shape[a] == 0 for a in axes)):
        raise ValueError(f"{op}: cannot reduce over an empty dimension (shape {x.shape})")


MaxResult = namedtuple("MaxResult", ["values", "indices"])
SortResult = namedtuple("SortResult", ["values", "indices"])
TopkResult = namedtuple("TopkResult", ["values", "indices"])


class _DtypeError(RuntimeError, TypeError):
    """A dtype an op cannot take: torch's RuntimeError, and the TypeError chainrule raised before."""


def _max_or_min(x: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: Any, is_max: bool) -> Any:
    op = "max" if is_max else "min"
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from chainrule.ops.elementwise import maximum, minimum  # noqa: PLC0415

        return maximum(x, dim) if is_max else minimum(x, dim)
    if dim is _MISSING and axis is _MISSING:
        return (amax if is_max else amin)(x)
    chosen = dim if dim is not _MISSING else axis
    if chosen is None:
        return (amax if is_max else amin)(x)
    keep = bool(keepdim if keepdims is _MISSING else keepdims)
    if not isinstance(chosen, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int (for several dims use amax/amin), got {chosen!r}")
    (ax,) = normalize_axes(chosen, x.ndim, op) or (0,)
    if x.ndim == 0:  # torch: a 0-d tensor is its own max along dim 0 / -1, at index 0
        from chainrule.ops.elementwise import clone  # noqa: PLC0415

        return MaxResult(clone(x), _new(np.zeros((), dtype=np.int64)))
    _check_nonempty(x, (ax,), op)
    idx = (np.argmax if is_max else np.argmin)(x.data, axis=ax, keepdims=True)
    values = take_along_dim(x, idx, ax)
    if not keep:
        values = values.squeeze(ax)
        idx = idx.squeeze(ax)
    return MaxResult(values, _new(idx.astype(np.int64)))


def max(
    x: Tensor,
    dim: Any = _MISSING,
    keepdim: bool = False,
    *,
    axis: Any = _MISSING,  # noqa: A001
    keepdims: Any = _MISSING,
) -> Any:
    """``x.max()`` -> Tensor (ties share the gradient); ``x.max(dim)`` -> ``(values, indices)``."""
    return _max_or_min(x, dim, keepdim, axis, keepdims, True)


def min(
    x: Tensor,
    dim: Any = _MISSING,
    keepdim: bool = False,
    *,
    axis: Any = _MISSING,  # noqa: A001
    keepdims: Any = _MISSING,
) -> Any:
    """``x.min()`` -> Tensor (ties share the gradient); ``x.min(dim)`` -> ``(values, indices)``."""
    return _max_or_min(x, dim, keepdim, axis, keepdims, False)


def _order(x: Tensor, dim: int, descending: bool, op: str) -> tuple[np.ndarray, int]:
    """Indices sorting ``x`` along ``dim`` (stable: ties keep their order, also when descending)."""
    ax = normalize_axes(dim, builtins.max(x.ndim, 1), op)[0] if x.ndim else 0
    data = x.data if x.ndim else x.data.reshape(1)
    if descending:  # a stable descending order: sort the reversed array, then map the indices back
        n = data.shape[ax]
        idx = n - 1 - np.flip(np.argsort(np.flip(data, ax), axis=ax, kind="stable"), ax)
    else:
        idx = np.argsort(data, axis=ax, kind="stable")
    return (idx if x.ndim else idx.reshape(())), ax


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (always stable: ties keep their order)."""
    idx, _ = _order(x, dim, descending, "argsort")
    return _new(idx.astype(np.int64))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """``(values, indices)`` sorted along ``dim``; the values are differentiable (gathered from ``x``)."""
    idx, ax = _order(x, dim, descending, "sort")
    values = take_along_dim(x, idx, ax) if x.ndim else x.clone()
    return SortResult(values, _new(idx.astype(np.int64)))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first."""
    idx, ax = _order(x, dim, largest, "topk")
    n = x.shape[ax] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
    idx = idx[(slice(None),) * ax + (slice(0, k),)] if x.ndim else idx
    values = take_along_dim(x, idx, ax) if x.ndim else x.clone()
    return TopkResult(values, _new(idx.astype(np.int64)))


def take_along_dim(x: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """The values of ``x`` at ``indices`` along ``dim`` (``torch.take_along_dim``); without ``dim`` both
    are flattened first."""
    from chainrule.ops.index import TakeAlongDim  # noqa: PLC0415

    idx = indices.data if isinstance(indices, Tensor) else backend.asarray(indices, like=indices)
    idx = backend.to_device_of(idx, x.data)
    if dim is None:
        return TakeAlongDim(idx.reshape(-1), 0)(x.reshape(-1))
    if idx.ndim != x.ndim:
        raise RuntimeError(
            f"take_along_dim: input ({x.ndim} dims) and indices ({idx.ndim} dims) should have the same "
            "number of dimensions"
        )
    (ax,) = normalize_axes(dim, x.ndim, "take_along_dim") or (0,)
    if x.ndim == 0:
        return TakeAlongDim(idx.reshape(1), 0)(x.reshape(1)).reshape(())
    shape = [builtins.max(a, b) if i != ax else b for i, (a, b) in enumerate(zip(x.shape, idx.shape))]
    xs = [s if i == ax else shape[i] for i, s in enumerate(x.shape)]
    if tuple(xs) != x.shape:
        from chainrule.ops.shape import broadcast_to  # noqa: PLC0415

        x = broadcast_to(x, tuple(xs))
    return TakeAlongDim(np.broadcast_to(idx, tuple(shape)), ax)(x)


def logsumexp(
    x: Tensor, dim: Any = _MISSING, keepdim: Any = _MISSING, *, axis: Any = _MISSING, keepdims: Any = _MISSING
) -> Tensor:
    """log(Σ exp(x)) computed without overflow."""
    axes, keep = _dim_args("logsumexp", x.ndim, dim, axis, keepdim, keepdims)
    return LogSumExp(axes, keep)(x)


def prod(
    x: Tensor,
    dim: Any = _MISSING,
    keepdim: Any = _MISSING,
    *,
    axis: Any = _MISSING,
    keepdims: Any = _MISSING,
    dtype: Any = None,
) -> Tensor:
    """Product over ``dim``; the gradient is exact even when some elements are zero. Integer and bool
    inputs multiply in int64 unless ``dtype`` is given, as in torch."""
    axes, keep = _dim_args("prod", x.ndim, dim, axis, keepdim, keepdims)
    return Prod(axes, keep)(_accumulate_as(x, dtype))


def _accumulate_as(x: Tensor, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` if given, else integer/bool promoted to int64 (torch's sum/prod/cumsum rule)."""
    if dtype is not None:
        return x.to(dtype)
    if x.dtype.kind in "biu" and x.dtype != np.int64:
        return x.to(np.int64)
    return x


def cumsum(x: Tensor, dim: Any = _MISSING, *, axis: Any = _MISSING, dtype: Any = None) -> Tensor:
    """The running sum along ``dim`` (required, as in torch); integer inputs accumulate in int64."""
    chosen = dim if dim is not _MISSING else axis
    if chosen is _MISSING or chosen is None:
        raise TypeError("cumsum: dim is required")
    (ax,) = normalize_axes(chosen, x.ndim, "cumsum") or (0,)
    return CumSum(ax)(_accumulate_as(x, dtype))


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The int64 index of the largest value (first on ties) over the flattened tensor or along ``dim``."""
    return _arg(np.argmax, x, dim if dim is not None else axis, keepdim)


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The int64 index of the smallest value (first on ties) over the flattened tensor or along ``dim``."""
    return _arg(np.argmin, x, dim if dim is not None else axis, keepdim)


def _arg(fn: Any, x: Tensor, dim: Any, keepdim: bool) -> Tensor:
    if dim is None:
        return _new(backend.ensure_array(fn(x.data)).astype(np.int64, copy=False))
    (ax,) = normalize_axes(dim, x.ndim, fn.__name__) or (0,)
    return _new(backend.ensure_array(fn(x.data, axis=ax, keepdims=keepdim)).astype(np.int64, copy=False))


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); ``p='fro'`` is the 2-norm over ``dim``;
    ``p='nuc'`` is the nuclear norm (the sum of singular values) of the matrices over the two dims ``dim``
    (the last two by default), as ``linalg.matrix_norm``."""
    from chainrule.ops.elementwise import abs as _abs  # noqa: PLC0415

    if dtype is not None:
        x = x.to(dtype)
    if isinstance(p, str):
        if p == "nuc":
            from chainrule.linalg import matrix_norm  # noqa: PLC0415

            return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim)
        if p != "fro":
            raise ValueError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        p = 2
    if p == 2:
        return Root(2)(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(_abs(x), dim, keepdim)
    if p == float("inf"):
        return amax(_abs(x), dim, keepdim)
    if p == -float("inf"):
        return amin(_abs(x), dim, keepdim)
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    zero = x.data == 0
    if p == 0:  # the number of non-zero elements; no gradient (0), as in torch
        return sum(where(zero, 0.0 * x, 1.0), dim, keepdim)
    if zero.any():  # |x|^p with a zero gradient at 0, as torch (not p·|x|^(p-1)·sign(x) = inf · 0 for p < 1)
        return Root(p)(sum(where(zero, 1.0, _abs(x)) ** p * _new((~zero).astype(x.dtype)), dim, keepdim))
    return Root(p)(sum(_abs(x) ** p, dim, keepdim))


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (along ``dim``, an int or a tuple, or of the whole tensor) is true: a bool
    tensor (uint8 for a uint8 input, as torch)."""
    return _logical_reduce(np.all, x, dim, keepdim, "all")


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (along ``dim``, an int or a tuple, or of the whole tensor) is true: a bool
    tensor (uint8 for a uint8 input, as torch)."""
    return _logical_reduce(np.any, x, dim, keepdim, "any")


def _logical_reduce(fn: Any, x: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    axes = normalize_axes(dim, x.ndim, op)  # None for a 0-d tensor; () reduces nothing, as torch
    out = backend.ensure_array(fn(x.data, axis=axes, keepdims=bool(keepdim) and x.ndim > 0))
    return _new(out.astype(np.uint8) if x.dtype == np.uint8 else out)


def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """The number of non-zero elements (along ``dim``, or in all), as int64."""
    return _new(backend.ensure_array(np.count_nonzero(x.data, axis=dim)).astype(np.int64, copy=False))
