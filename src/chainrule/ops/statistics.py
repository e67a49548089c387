"""Statistics composed from differentiable ops: ``nansum``, ``nanmean``, ``var_mean``, ``std_mean``,
``aminmax``, ``diff``, ``trapezoid``/``trapz``, ``cumulative_trapezoid``, ``cov``, ``corrcoef``, ``dist``,
``renorm``. Their gradients are those of the composition, which is how torch defines them.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chainrule.ops import reduce as _r
from chainrule.ops.elementwise import isnan, where
from chainrule.tensor import Tensor, _new

AminmaxResult = namedtuple("AminmaxResult", ["min", "max"])


def _no_nan(x: Tensor) -> Tensor:
    return where(isnan(x), 0.0, x) if x.dtype.kind == "f" else x


def nansum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum over ``dim`` treating NaN as 0 (NaN elements get no gradient)."""
    return _r.sum(_no_nan(x), dim, keepdim, dtype=dtype)


def nanmean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The mean over ``dim`` of the non-NaN elements (NaN where there are none)."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {x.dtype}")
    count = _r.sum(_new(~np.isnan(x.data)), dim, keepdim).to(x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):  # no non-NaN element: 0 / 0 = NaN, as torch
        return nansum(x, dim, keepdim) / count


def var_mean(x: Tensor, dim: Any = _r._MISSING, unbiased: Any = None, keepdim: Any = False, **kw: Any) -> Any:
    """``(var, mean)`` over ``dim``, with ``var``'s ``unbiased``/``correction`` arguments."""
    v = _r.var(x, dim, unbiased, keepdim, **kw)
    return v, _r.mean(x, _dims_of(x, dim), keepdim)


def std_mean(x: Tensor, dim: Any = _r._MISSING, unbiased: Any = None, keepdim: Any = False, **kw: Any) -> Any:
    """``(std, mean)`` over ``dim``, with ``std``'s ``unbiased``/``correction`` arguments."""
    s = _r.std(x, dim, unbiased, keepdim, **kw)
    return s, _r.mean(x, _dims_of(x, dim), keepdim)


def _dims_of(x: Tensor, dim: Any) -> Any:
    """The dims ``mean`` should reduce for var_mean(x, dim): a bool first argument is ``unbiased``."""
    return None if dim is _r._MISSING or dim is None or isinstance(dim, (bool, np.bool_)) else dim


def aminmax(x: Tensor, *, dim: Any = None, keepdim: bool = False) -> AminmaxResult:
    """``(min, max)`` over ``dim`` (all elements by default); ties share the gradient, as amin/amax."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
    if dim is None:
        shape = (1,) * x.ndim if keepdim else ()
        return AminmaxResult(_r.amin(x).reshape(shape), _r.amax(x).reshape(shape))
    return AminmaxResult(_r.amin(x, dim, keepdim), _r.amax(x, dim, keepdim))


def _slice(x: Tensor, ax: int, start: Any, stop: Any) -> Tensor:
    return x[(slice(None),) * ax + (slice(start, stop),)]


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (after ``prepend``/``append`` are joined on)."""
    from chainrule.ops.elementwise import ne  # noqa: PLC0415
    from chainrule.ops.shape import concat  # noqa: PLC0415

    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"diff expects n to be non-negative, got {n!r}")
    ax = _r.normalize_axes(dim, x.ndim, "diff")[0]
    if n == 0:  # torch returns the input as it is, without prepend/append
        return x
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat([p if isinstance(p, Tensor) else _new(np.asarray(p, dtype=x.dtype)) for p in parts], ax)
    for _ in range(n):
        if x.shape[ax] == 0:
            break
        hi, lo = _slice(x, ax, 1, None), _slice(x, ax, None, -1)
        x = ne(hi, lo) if x.dtype == np.bool_ else hi - lo
    return x


def _x_steps(y: Tensor, x: Any, ax: int, op: str) -> Any:
    """The spacing between samples: diff of ``x`` along ``ax`` (a 1-d ``x`` runs along ``ax``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: x must be a Tensor, got {type(x).__name__} (pass a number as dx=)")
    if x.ndim == 1:
        if x.shape[0] != y.shape[ax]:
            raise RuntimeError(
                f"{op}: there must be one x value ({x.shape[0]} given) per y sample along dim ({y.shape[ax]})"
            )
        x = x.reshape(tuple(-1 if i == ax else 1 for i in range(y.ndim)))
        return _slice(x, ax, 1, None) - _slice(x, ax, None, -1)
    xa = _r.normalize_axes(ax - y.ndim, x.ndim, op)[0]
    return _slice(x, xa, 1, None) - _slice(x, xa, None, -1)


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: samples at ``x`` (a tensor), or spaced ``dx`` (1 by default)."""
    ax = _r.normalize_axes(dim, y.ndim, "trapezoid")[0] if y.ndim else 0
    if y.ndim == 0:
        raise IndexError("trapezoid: y must have at least one dimension")
    if x is not None and dx is not None:
        raise TypeError("trapezoid: pass x or dx, not both")
    if y.dtype.kind in "biu":
        y = y.to(np.float32)
    if x is not None:
        if y.shape[ax] == 0:
            return _r.sum(y, ax) * 0
        return (
            _r.sum(_x_steps(y, x, ax, "trapezoid") * (_slice(y, ax, 1, None) + _slice(y, ax, None, -1)), ax)
            / 2
        )
    dx = 1 if dx is None else dx
    if y.shape[ax] == 0:
        return _r.sum(y, ax)
    ends = y[(slice(None),) * ax + (0,)] + y[(slice(None),) * ax + (-1,)]
    return (_r.sum(y, ax) - ends * 0.5) * dx


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """``trapezoid`` (torch's older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one value fewer than ``y`` has samples)."""
    if y.ndim == 0:
        raise IndexError("cumulative_trapezoid: y must have at least one dimension")
    ax = _r.normalize_axes(dim, y.ndim, "cumulative_trapezoid")[0]
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: pass x or dx, not both")
    if y.dtype.kind in "biu":
        y = y.to(np.float32)
    pair = _slice(y, ax, 1, None) + _slice(y, ax, None, -1)
    if x is not None:
        return _r.cumsum(_x_steps(y, x, ax, "cumulative_trapezoid") * pair / 2, ax)
    return _r.cumsum(pair * ((1 if dx is None else dx) / 2), ax)


def cov(x: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``x`` (observations in the columns), torch.cov.
    A 1-d ``x`` is one variable: a 0-d variance."""
    if x.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got {x.ndim}")
    if x.dtype.kind in "biu":
        x = x.to(np.float32)
    obs = x.reshape(1, -1) if x.ndim < 2 else x
    w = _cov_weights(obs, fweights, aweights)
    if w is None:
        w_sum, avg = float(obs.shape[1]), _r.mean(obs, 1, True)
        norm_factor = max(w_sum - correction, 0.0)
    else:
        w_sum = _r.sum(w)
        avg = _r.sum(obs * w, 1, True) / w_sum
        if correction == 0 or aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * _r.sum(w * aweights) / w_sum
        norm_factor = where(norm_factor.data <= 0, 0.0, norm_factor)  # torch: clamped to 0 (inf/NaN)
    d = obs - avg
    dw = d if w is None else d * w
    with np.errstate(invalid="ignore", divide="ignore"):  # no degrees of freedom: inf/NaN, as torch
        c = (dw @ d.transpose(0, 1)) / norm_factor
    return c.reshape(()) if obs.shape[0] == 1 else c  # one variable: a 0-d variance, as torch


def _cov_weights(obs: Tensor, fweights: Any, aweights: Any) -> Any:
    n = obs.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if not isinstance(wt, Tensor) or wt.ndim > 1 or wt.shape[0] != n:
            raise RuntimeError(
                f"cov(): expected {name} to be a 1-d tensor with {n} elements (one per observation)"
            )
        if name == "fweights" and wt.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if np.any(wt.data < 0):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        if wt.dtype.kind != "f":  # float weights keep their dtype: torch computes the weight sums in it
            wt = wt.to(obs.dtype)
        w = wt if w is None else w * wt
    return w


def corrcoef(x: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x`` (``cov`` normalised, clipped to [-1, 1])."""
    from chainrule.ops.elementwise import clamp, sqrt  # noqa: PLC0415

    c = cov(x)
    if c.ndim == 0:
        return c / c
    d = _diagonal(c)
    sd = sqrt(d)
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return clamp(c, -1, 1)


def _diagonal(c: Tensor) -> Tensor:
    n = c.shape[0]
    return c[np.arange(n), np.arange(n)]


def dist(x: Tensor, other: Any, p: float = 2) -> Tensor:
    """The ``p``-norm of ``x - other`` (broadcast) over all elements."""
    return _r.norm(x - other, p)


def renorm(x: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` scaled down to a ``p``-norm of at most ``maxnorm`` (torch.renorm)."""
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    ax = _r.normalize_axes(dim, x.ndim, "renorm")[0]
    others = tuple(i for i in range(x.ndim) if i != ax)
    norms = _r.norm(x, p, others, True)
    factor = where(norms.data > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return x * factor
