"""Scans along one dimension: ``cumprod``, ``cummax``, ``cummin``, ``logcumsumexp``.

``cumprod``'s gradient is exact where the input has zeros (the product of the other factors, as torch);
``cummax``/``cummin`` return ``(values, indices)`` (the latest index on ties, NaN propagates) and send the
gradient to those indices; ``logcumsumexp`` is computed with ``logaddexp`` accumulation, so it never
underflows.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.ops.reduce import (
    _accumulate_as,
    _prod_of_others,
    _prod_of_others_graph,
    normalize_axes,
    take_along_dim,
)
from chainrule.tensor import Tensor, _new

CumResult = namedtuple("CumResult", ["values", "indices"])


def _scan_axis(x: Tensor, dim: Any, op: str) -> int:
    if dim is None or isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return normalize_axes(dim, x.ndim, op)[0] if x.ndim else 0


def _reverse_cumsum(t: Any, ax: int) -> Any:
    from chainrule.ops.reduce import cumsum  # noqa: PLC0415
    from chainrule.ops.shape import flip  # noqa: PLC0415

    return flip(cumsum(flip(t, ax), ax), ax)


class CumProd(Function):
    uses_outputs = True

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        return x.copy() if x.ndim == 0 else np.cumprod(x, axis=self.axis)

    def backward(self, gy):
        (x,) = self.inputs
        if x.ndim == 0:
            return gy
        if np.all(x.data != 0):
            return _reverse_cumsum(gy * self.outputs[0], self.axis) / x
        return _cumprod_grad_with_zeros(x, gy, self.axis)


def _cumprod_grad_with_zeros(x: Tensor, gy: Tensor, ax: int) -> Tensor:
    """d/dx_j of Σ_i gy_i Π_{k<=i} x_k = Σ_{i>=j} gy_i Π_{k<=i, k!=j} x_k, from the rows of the triangular
    matrix T[i, j] = x_j (j <= i) else 1, whose leave-one-out products are exact with zeros."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415
    from chainrule.ops.reduce import sum as _sum  # noqa: PLC0415

    last = x.ndim - 1
    order = [i for i in range(x.ndim) if i != ax] + [ax]
    back = tuple(int(a) for a in np.argsort(order))
    xm, gm = x.permute(*order), gy.permute(*order)
    n = xm.shape[-1]
    below = np.tril(np.ones((n, n), dtype=bool))  # [i, j]: j <= i
    rows = where(below, xm.unsqueeze(-2), 1.0)  # (..., i, j)
    if _grad_state.grad_enabled:  # create_graph: keep the leave-one-out product differentiable
        others = _prod_of_others_graph(rows, (last + 1,))
    else:
        others = _new(_prod_of_others(rows.data, (last + 1,)))
    g = _sum(gm.unsqueeze(-1) * where(below, others, 0.0), last)
    return g.permute(*back)


def cumprod(x: Tensor, dim: Any, *, dtype: Any = None) -> Tensor:
    """The running product along ``dim``; integer inputs multiply in int64 unless ``dtype`` is given."""
    return CumProd(_scan_axis(x, dim, "cumprod"))(_accumulate_as(x, dtype))


def _cum_extreme(x: Tensor, dim: Any, is_max: bool) -> CumResult:
    op = "cummax" if is_max else "cummin"
    ax = _scan_axis(x, dim, op)
    if x.ndim == 0:
        from chainrule.ops.elementwise import clone  # noqa: PLC0415

        return CumResult(clone(x), _new(np.zeros((), dtype=np.int64)))
    idx = _running_arg(x.data, ax, is_max)
    return CumResult(take_along_dim(x, idx, ax), _new(idx))


def _running_arg(data: np.ndarray, ax: int, is_max: bool) -> np.ndarray:
    """For each position, the index of the running max (min) so far: the latest on ties, the latest NaN once
    a NaN is seen (torch's rule: take x when isnan(x) or x >= best, unless best is NaN)."""
    moved = np.moveaxis(data, ax, -1)
    n = moved.shape[-1]
    idx = np.zeros(moved.shape, dtype=np.int64)
    best = moved[..., 0].copy()
    cur = np.zeros(moved.shape[:-1], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for i in range(1, n):
            v = moved[..., i]
            better = (v >= best) if is_max else (v <= best)
            take = np.isnan(v) | (~np.isnan(best) & better)
            best = np.where(take, v, best)
            cur = np.where(take, i, cur)
            idx[..., i] = cur
    return np.moveaxis(idx, -1, ax)


def cummax(x: Tensor, dim: int) -> CumResult:
    """``(values, indices)``: the running maximum along ``dim`` and where it was found."""
    return _cum_extreme(x, dim, True)


def cummin(x: Tensor, dim: int) -> CumResult:
    """``(values, indices)``: the running minimum along ``dim`` and where it was found."""
    return _cum_extreme(x, dim, False)


class LogCumSumExp(Function):
    uses_outputs = True

    def __init__(self, axis: int):
        self.axis = axis

    @silently
    def forward(self, x):
        return x.copy() if x.ndim == 0 else np.logaddexp.accumulate(x, axis=self.axis)

    def backward(self, gy):
        """torch's formula: the positive and negative parts of gy, each a reverse logcumsumexp."""
        from chainrule.ops.elementwise import exp, log, where  # noqa: PLC0415
        from chainrule.ops.shape import flip  # noqa: PLC0415

        (x,) = self.inputs
        (y,) = self.outputs
        if x.ndim == 0:
            return gy
        ax = self.axis
        lowest = np.finfo(x.dtype).min

        def reverse_lcse(t: Tensor) -> Tensor:
            return flip(LogCumSumExp(ax)(flip(t, ax)), ax)

        pos, neg = gy.data > 0, gy.data < 0
        log_pos = where(pos, log(where(pos, gy, 1.0)), lowest)
        log_neg = where(neg, log(where(neg, -gy, 1.0)), lowest)
        return exp(reverse_lcse(log_pos - y) + x) - exp(reverse_lcse(log_neg - y) + x)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, computed stably."""
    if x.dtype.kind != "f":
        x = x.to(np.float32)
    return LogCumSumExp(_scan_axis(x, dim, "logcumsumexp"))(x)
