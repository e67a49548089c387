"""Special functions (gamma, error-function and Bessel families) with torch's names and gradients.

The forwards are the NumPy kernels of ``special_kernels`` (computed in float64, returned in the input's
float dtype; integer inputs give float32). Each backward is written in tensor ops, so it is differentiable
again (lgamma' = digamma, digamma' = polygamma(1, x), erfinv' = sqrt(pi)/2 exp(erfinv(x)^2)...).

>>> import chainrule as cr
>>> round(cr.lgamma(cr.tensor([5.0])).item(), 6)  # log(4!)
3.178054
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.ops import special_kernels as K
from chainrule.ops.elementwise import _floating, _pair, exp, log1p, sign, where
from chainrule.ops.elementwise_math import _binary_inputs, _bool_of, _mask, _no_out, xlogy
from chainrule.tensor import Tensor

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


@silently  # the kernels overflow to inf (and the cast to float32), as torch, silently
def _run(kernel: Any, x: np.ndarray, *args: Any) -> np.ndarray:
    x = _floating(x)
    if x.dtype.kind not in "f":
        raise TypeError(f"special functions take real floating tensors, got {x.dtype}")
    return np.asarray(kernel(x, *args)).astype(x.dtype)


class _Unary(Function):
    kernel: Any = None

    def forward(self, x):
        return _run(type(self).kernel, x)


class Erfc(_Unary):
    kernel = staticmethod(K.erfc)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * exp(-(x * x)) * (-2 / _SQRT_PI)


class Erfinv(_Unary):
    kernel = staticmethod(K.erfinv)
    uses_inputs = False
    uses_outputs = True

    def backward(self, gy):
        y = self.outputs[0]
        return gy * exp(y * y) * (_SQRT_PI / 2)


class Lgamma(_Unary):
    kernel = staticmethod(K.lgamma)

    def backward(self, gy):
        return gy * digamma(self.inputs[0])


class Polygamma(Function):
    def __init__(self, n: int):
        self.n = n

    def forward(self, x):
        return _run(lambda v: K.polygamma(self.n, v), x)

    def backward(self, gy):
        return gy * polygamma(self.n + 1, self.inputs[0])


class BesselI(Function):
    """I_0, I_1 and their scaled forms e^-|x| I_nu(x)."""

    def __init__(self, nu: int, scaled: bool):
        self.nu, self.scaled = nu, scaled

    def forward(self, x):
        return _run(lambda v: K.bessel_i(v, self.nu, self.scaled), x)

    def backward(self, gy):
        x = self.inputs[0]
        if self.nu == 0:  # I0' = I1; (e^-|x| I0)' = e^-|x| I1 - sign(x) e^-|x| I0
            d = i1e(x) - sign(x) * i0e(x) if self.scaled else i1(x)
            return gy * d
        zero = _bool_of(x.data == 0)
        xs = where(zero, 1.0, x)  # I1'(x) = I0 - I1/x, 1/2 at 0
        if self.scaled:
            d = i0e(x) - i1e(x) * (sign(x) + 1 / xs)
        else:
            d = i0(x) - i1(x) / xs
        return gy * where(zero, 0.5, d)


class Erfcx(_Unary):
    kernel = staticmethod(K.erfcx)
    uses_outputs = True

    def backward(self, gy):
        x = self.inputs[0]
        return gy * (x * 2 * erfcx(x) - 2 / _SQRT_PI)


class Ndtr(Function):
    def forward(self, x):
        return _run(lambda v: 0.5 * K.erfc(-v / math.sqrt(2)), x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * exp(x * x * -0.5) * (1 / _SQRT_2PI)


class Ndtri(_Unary):
    kernel = staticmethod(K.ndtri)
    uses_inputs = False
    uses_outputs = True

    def backward(self, gy):
        y = self.outputs[0]
        return gy * exp(y * y * 0.5) * _SQRT_2PI


class LogNdtr(_Unary):
    kernel = staticmethod(K.log_ndtr)

    def backward(self, gy):
        # phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x/sqrt 2): no underflow in either tail
        x = self.inputs[0]
        return gy * (math.sqrt(2 / math.pi) / erfcx(x * (-1 / math.sqrt(2))))


class XLog1pY(Function):
    """x·log1p(y), 0 where x = 0 (unless y is nan), as torch's ``special.xlog1py``."""

    def forward(self, x, y):
        x, y = _binary_inputs(x, y)
        with np.errstate(all="ignore"):
            out = x * np.log1p(y)
        return np.where((x == 0) & ~np.isnan(y), 0, out).astype(out.dtype)

    def backward(self, gy):
        x, y = self.inputs
        nonzero = _mask(x.data != 0, gy)
        return gy * xlog1py(nonzero, y), gy * x / (y + 1)


class Entr(Function):
    """-x·log(x) for x > 0, 0 at 0, -inf below 0 (nan stays nan)."""

    def forward(self, x):
        x = _floating(x)
        with np.errstate(all="ignore"):
            out = -x * np.log(np.where(x > 0, x, 1))
        return np.where(x < 0, -np.inf, np.where(np.isnan(x), np.nan, out)).astype(x.dtype)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * -(log1p(x - 1) + 1)


class Zeta(Function):
    """The Hurwitz zeta function; the gradient is to ``q`` only (torch has none for ``x``)."""

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x, q):
        x, q = _binary_inputs(x, q)
        out = np.asarray(K.zeta(x, q))
        # torch's (Cephes') series at infinite arguments: zeta(inf, q) is q^-inf summed, 1 at q = 1 and inf
        # below it; zeta(x, inf) is nan (0 * inf in its Euler-Maclaurin tail)
        x_inf = x == np.inf
        out = np.where(x_inf & (q == 1), 1.0, np.where(x_inf & (q < 1), np.inf, out))
        out = np.where((q == np.inf) & (x > 1), np.nan, out)
        return out.astype(np.result_type(x, q))

    def backward(self, gy):
        x, q = self.inputs
        if self.needs_input_grad[0]:
            raise NotImplementedError("special.zeta: the derivative for 'self' (x) is not implemented")
        return None, gy * -x * zeta(x + 1, q)


def zeta(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``special.zeta(x, q)``: the Hurwitz zeta function ``sum_k (k + q)^-x``."""
    _no_out(out, "zeta")
    return Zeta()(*_pair(input, other))


def _checked(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"{name}: n must be a non-negative integer, got {n!r}")
    return int(n)


def erfc(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The complementary error function ``1 - erf(x)``, accurate in the tail."""
    _no_out(out, "erfc")
    return Erfc()(input)


def erfinv(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The inverse error function on (-1, 1) (±inf at ±1, nan outside)."""
    _no_out(out, "erfinv")
    return Erfinv()(input)


def lgamma(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``log|Γ(x)|`` (inf at the poles 0, -1, -2...)."""
    _no_out(out, "lgamma")
    return Lgamma()(input)


def digamma(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """ψ(x) = Γ'(x)/Γ(x) (-inf at +0, inf at -0, nan at the negative integers, as torch)."""
    _no_out(out, "digamma")
    return Polygamma(0)(input)


def polygamma(n: int, input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The n-th derivative of the digamma function."""
    _no_out(out, "polygamma")
    return Polygamma(_checked(n, "polygamma"))(input)


def mvlgamma(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """The multivariate log-gamma ``sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)``, i < p. As in torch 2.13 the
    domain ``x > (p - 1)/2`` is not checked: outside it the result is the same sum (inf at the poles)."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    if input.dtype.kind not in "f":
        raise RuntimeError(f"mvlgamma: not implemented for dtype {input.dtype}")
    total = lgamma(input)
    for i in range(1, p):
        total = total + lgamma(input - i / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


def i0(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The modified Bessel function of the first kind, order 0."""
    _no_out(out, "i0")
    return BesselI(0, False)(input)


def i0e(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``exp(-|x|) * i0(x)``."""
    _no_out(out, "i0e")
    return BesselI(0, True)(input)


def i1(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The modified Bessel function of the first kind, order 1."""
    _no_out(out, "i1")
    return BesselI(1, False)(input)


def i1e(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``exp(-|x|) * i1(x)``."""
    _no_out(out, "i1e")
    return BesselI(1, True)(input)


def erfcx(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The scaled complementary error function ``exp(x^2) * erfc(x)``."""
    _no_out(out, "erfcx")
    return Erfcx()(input)


def ndtr(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The standard normal CDF."""
    _no_out(out, "ndtr")
    return Ndtr()(input)


def ndtri(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The inverse of the standard normal CDF."""
    _no_out(out, "ndtri")
    return Ndtri()(input)


def log_ndtr(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``log(ndtr(x))``, accurate far in the left tail."""
    _no_out(out, "log_ndtr")
    return LogNdtr()(input)


def xlog1py(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    _no_out(out, "xlog1py")
    return XLog1pY()(*_pair(input, other))


def entr(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """The elementwise entropy ``-x log x`` (0 at 0, -inf below 0)."""
    _no_out(out, "entr")
    return Entr()(input)


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """``Tensor.polygamma(n)``: torch's method takes ``n`` after the tensor."""
    return polygamma(n, self)


Tensor.polygamma = _polygamma_method

__all__ = [
    "digamma", "entr", "erfc", "erfcx", "erfinv", "i0", "i0e", "i1", "i1e", "lgamma", "log_ndtr", "mvlgamma",
    "ndtr", "ndtri", "polygamma", "xlog1py", "xlogy", "zeta",
]  # fmt: skip
