"""``torch.special``'s orthogonal polynomials: Chebyshev T/U/V/W (and the shifted ones on [0, 1]), Hermite
H/He, Laguerre L and Legendre P, each ``f(x, n)`` with ``x`` and ``n`` broadcast together.

They follow torch's kernels (``aten/src/ATen/native/Math.h``) case by case: ``n`` is truncated to an integer
(nan, ±inf or out-of-range ``n`` count as negative), a negative ``n`` gives 0, the values at the ends of the
interval are exact, Chebyshev polynomials of high degree inside (-1, 1) use their trigonometric closed forms,
and everything else runs the three-term recurrence (stopped once a value is nan, as torch does: large ``n``
with |x| > 1 overflows to inf and then nan). Hermite polynomials are nan above degree 128 (float32) / 512
(float64). The arithmetic is done in the result dtype (torch's promotion of ``x`` and ``n``; integer
results become float32). Like torch, none of them is differentiable. Differences from torch: a nan ``x``
gives nan (torch leaves the result unset there: 0, 5e-324...), and at the edge of overflow (|value| > 1e300)
torch's fused multiply-adds can keep its recurrence finite a step or two longer.

>>> import chainrule as cr
>>> cr.special.chebyshev_polynomial_t(cr.tensor([0.5, 2.0]), 3).tolist()
[-1.0, 26.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.ops.elementwise import _is_number, _pair
from chainrule.ops.elementwise_math import _binary_inputs, _no_out
from chainrule.tensor import Tensor, _new

_HERMITE_LIMIT = {np.dtype(np.float32): 128, np.dtype(np.float64): 512}
_INT64_LIMIT = 2.0**63


def _inputs(x: Any, n: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` in the result dtype and ``n`` as int64 (torch's cast: truncation; nan/inf/huge -> -1)."""
    if not isinstance(x, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special.{name}(): x and n cannot both be numbers (got {type(x).__name__}, "
                        f"{type(n).__name__}); one must be a Tensor")  # fmt: skip
    for label, v in (("x", x), ("n", n)):
        if not isinstance(v, Tensor) and not _is_number(v):
            raise TypeError(
                f"special.{name}(): argument '{label}' must be Tensor or Number, not {type(v).__name__}"
            )
    a, b = _pair(x, n)
    if backend.is_cuda_array(a.data) or backend.is_cuda_array(b.data):
        raise RuntimeError(
            f"special.{name}: computed with NumPy only, on the CPU; call .cpu() first (device cuda)"
        )
    xa, na = _binary_inputs(a.data, b.data)
    if xa.dtype.kind != "f":
        raise NotImplementedError(f'"special.{name}" not implemented for {xa.dtype}')
    xa, na = np.broadcast_arrays(xa, na)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(na) & (np.abs(na) < _INT64_LIMIT)
        k = np.where(ok, np.trunc(np.where(ok, na, 0)), -1).astype(np.int64)
    return np.array(xa), k


_Step = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def _recurrence(
    count: np.ndarray, p: np.ndarray, q: np.ndarray, step: _Step, stop_at_nan: bool = True,
    start: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """``count`` steps of ``r = step(i, p, q); p, q = q, r`` for each lane (i = 0, 1...), a lane stopping
    early once its ``q`` is nan when ``stop_at_nan``; returns the last ``r`` (``start``, else nan, where no
    step ran: torch leaves it unset there)."""
    r = np.full_like(q, np.nan) if start is None else start
    i = 0
    active = count > 0
    if stop_at_nan:
        active &= ~np.isnan(q)
    while active.any():
        new = step(i, p, q)
        r = np.where(active, new, r)
        p, q = np.where(active, q, p), np.where(active, new, q)
        i += 1
        active &= count > i
        if stop_at_nan:
            active &= ~np.isnan(q)
    return r


def _evaluate(x: np.ndarray, n: np.ndarray, cases: list, rest: np.ndarray, fill: Callable) -> np.ndarray:
    """``cases`` are (mask, value function) in priority order; lanes in none of them (``rest``) get
    ``fill(x_rest, n_rest)``. Value functions see only their own lanes."""
    out = np.zeros(x.shape, x.dtype)
    taken = np.zeros(x.shape, bool)
    for mask, value in cases:
        m = mask & ~taken
        if m.any():
            out[m] = value(x[m], n[m])
        taken |= m
    m = rest & ~taken
    if m.any():
        out[m] = fill(x[m], n[m])
    return out


def _fms(a: np.ndarray, q: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * q - b`` as torch's build computes it, with one fused multiply-add: exact for float32 (the
    float64 product of two float32 values is exact, then one rounding), plain arithmetic for float64."""
    if q.dtype == np.float32:
        return (a.astype(np.float64) * q.astype(np.float64) - np.asarray(b, np.float64)).astype(np.float32)
    return a * q - b


def _even(n: np.ndarray) -> np.ndarray:
    return n % 2 == 0


def _t(v: np.ndarray, n: np.ndarray) -> np.ndarray:
    return n.astype(v.dtype)


def _odd_sign(n: np.ndarray, value: np.ndarray) -> np.ndarray:
    return np.where(_even(n), value, -value)


def _three_term(x2: np.ndarray, q0: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``r = x2 q - p`` from p = 1, q = q0, for k = 2..n (the Chebyshev recurrences; n >= 2 here)."""
    one = np.ones_like(q0)
    return _recurrence(n - 1, one, q0, lambda i, p, q: _fms(x2, q, p))


def _run(
    name: str, x: Any, n: Any, out: Any, kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> Tensor:
    _no_out(out, f"special.{name}")
    xa, k = _inputs(x, n, name)
    with np.errstate(all="ignore"):
        result = kernel(np.atleast_1d(xa), np.atleast_1d(k))  # boolean masks need a dimension
    return _new(np.asarray(result, dtype=xa.dtype).reshape(xa.shape))


# ------------------------------------------------------------------ Chebyshev
def _chebyshev_t(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    one = x.dtype.type(1.0)
    ends = np.abs(x) == 1
    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (ends, lambda v, m: np.where((v > 0) | _even(m), one, -one)),
        ((n > 6) & (np.abs(x) < 1), lambda v, m: np.cos(_t(v, m) * np.arccos(v))),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v),
    ], np.ones(x.shape, bool), lambda v, m: _three_term(v + v, v, m))  # fmt: skip


def _chebyshev_u(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        a = np.arccos(v)
        s = np.sin(a)
        m1 = _t(v, m + 1)
        return np.where(s != 0, np.sin(m1 * a) / s, m1 * np.cos(m1 * a) / v)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (np.abs(x) == 1, lambda v, m: np.where((v > 0) | _even(m), _t(v, m + 1), -_t(v, m + 1))),
        ((n > 8) & (np.abs(x) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v + v),
    ], np.ones(x.shape, bool), lambda v, m: _three_term(v + v, v + v, m))  # fmt: skip


def _chebyshev_v(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        a = np.arccos(v)
        ends = _odd_sign(m, _t(v, m + m + 1))
        return np.where(np.sin(a / c(2.0)) != 1, np.cos((_t(v, m) + c(0.5)) * a) / np.cos(a / c(2.0)), ends)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (np.abs(x) == 1, lambda v, m: np.where(v > 0, c(1.0), _odd_sign(m, _t(v, m + m + 1)))),
        ((n > 8) & (np.abs(x) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v + v - c(1.0)),
    ], np.ones(x.shape, bool), lambda v, m: _three_term(v + v, v + v - c(1.0), m))  # fmt: skip


def _chebyshev_w(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def ends(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        return np.where(v > 0, _t(v, m + m + 1), _odd_sign(m, np.ones_like(v)))

    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        a = np.arccos(v)
        return np.where(
            np.cos(a / c(2.0)) != 1, np.sin((_t(v, m) + c(0.5)) * a) / np.sin(a / c(2.0)), ends(v, m)
        )

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (np.abs(x) == 1, ends),
        ((n > 8) & (np.abs(x) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v + v + c(1.0)),
    ], np.ones(x.shape, bool), lambda v, m: _three_term(v + v, v + v + c(1.0), m))  # fmt: skip


# ------------------------------------------------------------------ shifted Chebyshev (on [0, 1])
def _shifted(x: np.ndarray) -> np.ndarray:
    return x + x - x.dtype.type(1.0)


def _shifted_t(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (x == 1, lambda v, m: np.ones_like(v)),
        (x == 0, lambda v, m: _odd_sign(m, np.ones_like(v))),
        ((n > 6) & (np.abs(_shifted(x)) < 1), lambda v, m: np.cos(_t(v, m) * np.arccos(_shifted(v)))),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: _shifted(v)),
    ], np.ones(x.shape, bool), lambda v, m: _three_term(_shifted(v) + _shifted(v), _shifted(v), m))  # fmt: skip  # noqa: E501


def _shifted_u(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        y = _shifted(v)
        a = np.arccos(y)
        s = np.sin(a)
        m1 = _t(v, m + 1)
        return np.where(s != 0, np.sin(m1 * a) / s, m1 * np.cos(m1 * a) / y)

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        y2 = _shifted(v) + _shifted(v)
        return _three_term(y2, y2, m)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (x == 1, lambda v, m: _t(v, m + 1)),
        (x == 0, lambda v, m: _odd_sign(m, _t(v, m + 1))),
        ((n > 6) & (np.abs(_shifted(x)) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: _shifted(v) + _shifted(v)),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


def _shifted_v(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        a = np.arccos(_shifted(v))
        ends = _odd_sign(m, _t(v, m + m + 1))
        return np.where(np.sin(a / c(2.0)) != 1, np.cos((_t(v, m) + c(0.5)) * a) / np.cos(a / c(2.0)), ends)

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        y2 = _shifted(v) + _shifted(v)
        return _three_term(y2, y2 - c(1.0), m)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (x == 1, lambda v, m: np.ones_like(v)),
        (x == 0, lambda v, m: _odd_sign(m, _t(v, m + m + 1))),
        ((n > 6) & (np.abs(_shifted(x)) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: _shifted(v) + _shifted(v) - c(1.0)),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


def _shifted_w(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def closed(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        a = np.arccos(_shifted(v))
        ends = _odd_sign(m, np.ones_like(v))
        return np.where(np.cos(a / c(2.0)) != 1, np.sin((_t(v, m) + c(0.5)) * a) / np.sin(a / c(2.0)), ends)

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:
        y2 = _shifted(v) + _shifted(v)
        return _three_term(y2, y2 + c(1.0), m)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (x == 1, lambda v, m: _t(v, m + m + 1)),
        (x == 0, lambda v, m: _odd_sign(m, np.ones_like(v))),
        ((n > 4) & (np.abs(_shifted(x)) < 1), closed),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: _shifted(v) + _shifted(v) + c(1.0)),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


# ------------------------------------------------------------------ Hermite, Laguerre, Legendre
def _hermite_h(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:  # r = 2x q - k p, k = 2, 4, ... < 2n
        v2 = v + v
        return _recurrence(m - 1, np.ones_like(v), v2, lambda i, p, q: _fms(v2, q, c(2 * i + 2) * p), False)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v + v),
        (n > _HERMITE_LIMIT[x.dtype], lambda v, m: np.full_like(v, np.nan)),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


def _hermite_he(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:  # r = x q - k p, k = 1..n-1
        return _recurrence(m - 1, np.ones_like(v), v, lambda i, p, q: _fms(v, q, c(i + 1) * p), False)

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v),
        (n > _HERMITE_LIMIT[x.dtype], lambda v, m: np.full_like(v, np.nan)),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


def _laguerre_l(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:  # r = ((2k + 1 - x) q - k p) / (k + 1)
        w = c(1.0) - v
        return _recurrence(
            m - 1, np.ones_like(v), w, lambda i, p, q: _fms(c(2 * i + 2) + w, q, c(i + 1) * p) / c(i + 2)
        )

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (np.abs(x) == 0, lambda v, m: np.ones_like(v)),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: c(1.0) - v),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


def _legendre_p(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = x.dtype.type

    def rest(v: np.ndarray, m: np.ndarray) -> np.ndarray:  # r = ((2k + 1) x q - k p) / (k + 1)
        return _recurrence(
            m - 1, np.ones_like(v), v, lambda i, p, q: _fms(c(2 * i + 3) * v, q, c(i + 1) * p) / c(i + 2)
        )

    return _evaluate(x, n, [
        (n < 0, lambda v, m: np.zeros_like(v)),
        (np.abs(x) == 1, lambda v, m: np.where((v > 0) | _even(m), c(1.0), c(-1.0))),
        (n == 0, lambda v, m: np.ones_like(v)),
        (n == 1, lambda v, m: v),
    ], np.ones(x.shape, bool), rest)  # fmt: skip


# ------------------------------------------------------------------ public functions
def chebyshev_polynomial_t(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Chebyshev polynomial of the first kind T_n(x)."""
    return _run("chebyshev_polynomial_t", input, n, out, _chebyshev_t)


def chebyshev_polynomial_u(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Chebyshev polynomial of the second kind U_n(x)."""
    return _run("chebyshev_polynomial_u", input, n, out, _chebyshev_u)


def chebyshev_polynomial_v(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Chebyshev polynomial of the third kind V_n(x)."""
    return _run("chebyshev_polynomial_v", input, n, out, _chebyshev_v)


def chebyshev_polynomial_w(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Chebyshev polynomial of the fourth kind W_n(x)."""
    return _run("chebyshev_polynomial_w", input, n, out, _chebyshev_w)


def shifted_chebyshev_polynomial_t(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """T*_n(x) = T_n(2x - 1), the first-kind Chebyshev polynomial shifted to [0, 1]."""
    return _run("shifted_chebyshev_polynomial_t", input, n, out, _shifted_t)


def shifted_chebyshev_polynomial_u(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """U*_n(x) = U_n(2x - 1), the second-kind Chebyshev polynomial shifted to [0, 1]."""
    return _run("shifted_chebyshev_polynomial_u", input, n, out, _shifted_u)


def shifted_chebyshev_polynomial_v(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """V*_n(x) = V_n(2x - 1), the third-kind Chebyshev polynomial shifted to [0, 1]."""
    return _run("shifted_chebyshev_polynomial_v", input, n, out, _shifted_v)


def shifted_chebyshev_polynomial_w(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """W*_n(x) = W_n(2x - 1), the fourth-kind Chebyshev polynomial shifted to [0, 1]."""
    return _run("shifted_chebyshev_polynomial_w", input, n, out, _shifted_w)


def hermite_polynomial_h(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The physicists' Hermite polynomial H_n(x) (nan above degree 128 in float32, 512 in float64)."""
    return _run("hermite_polynomial_h", input, n, out, _hermite_h)


def hermite_polynomial_he(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The probabilists' Hermite polynomial He_n(x) (nan above degree 128 in float32, 512 in float64)."""
    return _run("hermite_polynomial_he", input, n, out, _hermite_he)


def laguerre_polynomial_l(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Laguerre polynomial L_n(x)."""
    return _run("laguerre_polynomial_l", input, n, out, _laguerre_l)


def legendre_polynomial_p(input: Any, n: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The Legendre polynomial P_n(x)."""
    return _run("legendre_polynomial_p", input, n, out, _legendre_p)


__all__ = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
]  # fmt: skip
