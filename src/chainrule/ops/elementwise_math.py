"""More elementwise math, under PyTorch's names: rounding, hyperbolic and inverse trigonometric functions,
logarithms in other bases, and binary ops such as ``atan2``, ``hypot``, ``xlogy``, ``fmod``, ``copysign``.

Each differentiable op has one derivative rule written in tensor ops (so it is differentiable again), or is
composed from existing ops. Integer inputs to float ops compute in float32, as torch's default dtype.

>>> import chainrule as cr
>>> cr.atan2(cr.tensor([1.0]), cr.tensor([1.0])).item() == cr.tensor([0.7853981633974483]).item()
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.ops.elementwise import (
    _check_int_divisor,
    _floating,
    _pair,
    _promote,
    cast,
    cos,
    sigmoid,
    sign,
    sin,
    sqrt,
    where,
)
from chainrule.tensor import Tensor, _new

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported")


def _mask(m: Any, like: Tensor) -> Tensor:
    """A constant 0/1 tensor of ``like``'s dtype from a boolean array."""
    return _new(np.asarray(m).astype(like.dtype))


def _binary_inputs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.dtype != b.dtype:
        a, b = _promote(a, b)
    return _floating(a), _floating(b)


def _bool_of(x: Any) -> Tensor:
    return _new(backend.ensure_array(x))


# ---------------------------------------------------------------------------- rounding (zero gradient)
class _Rounding(Function):
    """floor/ceil/trunc: the gradient is 0 everywhere, as torch's. Integer tensors are returned as is."""

    uses_inputs = False
    ufunc: Any = None

    def forward(self, x):
        return x.copy() if x.dtype.kind in "biu" else type(self).ufunc(x)

    def backward(self, gy):
        return gy * 0.0


class Floor(_Rounding):
    ufunc = np.floor


class Ceil(_Rounding):
    ufunc = np.ceil


class Trunc(_Rounding):
    ufunc = np.trunc


def floor(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.floor``: the largest integer <= each element (gradient 0)."""
    return Floor()(input)


def ceil(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.ceil``: the smallest integer >= each element (gradient 0)."""
    return Ceil()(input)


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.trunc`` (alias ``fix``): each element rounded toward zero (gradient 0)."""
    return Trunc()(input)


fix = trunc


class Frac(Function):
    uses_inputs = False

    @silently  # frac(±inf) is nan, silently, as in torch
    def forward(self, x):
        if x.dtype.kind in "biu":
            raise RuntimeError(f"frac: not implemented for integer dtype {x.dtype}")
        return x - np.trunc(x)

    def backward(self, gy):
        return gy


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.frac``: ``x - trunc(x)``, the fractional part with the sign of ``x``."""
    return Frac()(input)


# ---------------------------------------------------------------------------- unary math
class Reciprocal(Function):
    uses_inputs = False
    uses_outputs = True

    @silently
    def forward(self, x):
        return 1 / _floating(x)

    def backward(self, gy):
        y = self.outputs[0]
        return gy * -(y * y)


class Sinh(Function):
    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.sinh(_floating(x))

    def backward(self, gy):
        return gy * cosh(self.inputs[0])


class Cosh(Function):
    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.cosh(_floating(x))

    def backward(self, gy):
        return gy * sinh(self.inputs[0])


class Asin(Function):
    @silently
    def forward(self, x):
        return np.arcsin(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy / sqrt(1 - x * x)


class Acos(Function):
    @silently
    def forward(self, x):
        return np.arccos(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return -gy / sqrt(1 - x * x)


class Atan(Function):
    def forward(self, x):
        return np.arctan(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy / (x * x + 1)


class Asinh(Function):
    def forward(self, x):
        return np.arcsinh(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy / sqrt(x * x + 1)


class Acosh(Function):
    @silently
    def forward(self, x):
        return np.arccosh(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy / sqrt((x - 1) * (x + 1))


class Atanh(Function):
    @silently
    def forward(self, x):
        return np.arctanh(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy / (1 - x * x)


class Log2(Function):
    @silently
    def forward(self, x):
        return np.log2(_floating(x))

    def backward(self, gy):
        return gy / (self.inputs[0] * _LN2)


class Log10(Function):
    @silently
    def forward(self, x):
        return np.log10(_floating(x))

    def backward(self, gy):
        return gy / (self.inputs[0] * _LN10)


class Exp2(Function):
    uses_inputs = False
    uses_outputs = True

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.exp2(_floating(x))

    def backward(self, gy):
        return gy * (self.outputs[0] * _LN2)


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.reciprocal``: ``1 / x`` (inf at 0)."""
    return Reciprocal()(input)


def sinh(input: Tensor) -> Tensor:  # noqa: A002
    """The hyperbolic sine."""
    return Sinh()(input)


def cosh(input: Tensor) -> Tensor:  # noqa: A002
    """The hyperbolic cosine."""
    return Cosh()(input)


def asin(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse sine (nan outside [-1, 1]); alias ``arcsin``."""
    return Asin()(input)


def acos(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse cosine (nan outside [-1, 1]); alias ``arccos``."""
    return Acos()(input)


def atan(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse tangent; alias ``arctan``."""
    return Atan()(input)


def asinh(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse hyperbolic sine; alias ``arcsinh``."""
    return Asinh()(input)


def acosh(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse hyperbolic cosine (nan below 1); alias ``arccosh``."""
    return Acosh()(input)


def atanh(input: Tensor) -> Tensor:  # noqa: A002
    """The inverse hyperbolic tangent (±inf at ±1, nan outside); alias ``arctanh``."""
    return Atanh()(input)


def log2(input: Tensor) -> Tensor:  # noqa: A002
    """The base-2 logarithm."""
    return Log2()(input)


def log10(input: Tensor) -> Tensor:  # noqa: A002
    """The base-10 logarithm."""
    return Log10()(input)


def exp2(input: Tensor) -> Tensor:  # noqa: A002
    """``2 ** x``."""
    return Exp2()(input)


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


class Sinc(Function):
    """sin(πx)/(πx), 1 at 0. The backward evaluates its formula at a safe x where x = 0 (derivative 0)."""

    @silently
    def forward(self, x):
        x = _floating(x)
        px = x * np.pi
        return np.where(x == 0, 1, np.sin(px) / np.where(x == 0, 1, px)).astype(x.dtype)

    def backward(self, gy):
        x = self.inputs[0]
        zero = x.data == 0
        xs = where(_bool_of(zero), 1.0, x)
        px = xs * math.pi
        d = (cos(px) * px - sin(px)) / (px * xs)
        return gy * where(_bool_of(zero), 0.0, d)


def sinc(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.sinc``: the normalized sinc ``sin(πx)/(πx)``, 1 at 0."""
    return Sinc()(input)


def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    """Degrees to radians: ``x * π / 180``."""
    return _to_float(input) * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    """Radians to degrees: ``x * 180 / π``."""
    return _to_float(input) * (180.0 / math.pi)


def _to_float(x: Tensor) -> Tensor:
    if x.dtype.kind == "b" or x.dtype.kind in "iu":
        return cast(x, np.float32)
    return x


def positive(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.positive``: ``input`` itself (an error for bool, as torch)."""
    if input.dtype.kind == "b":
        raise TypeError("positive: the `+` operator on a bool tensor is not supported")
    return input


def sgn(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.sgn``: the sign for real tensors (``x / |x|`` for complex ones in torch)."""
    if input.dtype.kind == "c":
        raise NotImplementedError("sgn: complex tensors are not supported")
    return sign(input)


# ---------------------------------------------------------------------------- predicates (no gradient)
def isinf(input: Tensor) -> Tensor:  # noqa: A002
    """Whether each element is ±inf, as a bool tensor."""
    return _bool_of(np.isinf(input.data))


def isposinf(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Whether each element is +inf, as a bool tensor."""
    _no_out(out, "isposinf")
    return _bool_of(np.isposinf(input.data) if input.dtype.kind in "fc" else np.zeros(input.shape, bool))


def isneginf(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Whether each element is -inf, as a bool tensor."""
    _no_out(out, "isneginf")
    return _bool_of(np.isneginf(input.data) if input.dtype.kind in "fc" else np.zeros(input.shape, bool))


def signbit(input: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """Whether each element's sign bit is set (true for -0.0), as a bool tensor."""
    _no_out(out, "signbit")
    return _bool_of(np.signbit(input.data))


# ---------------------------------------------------------------------------- binary math
class Atan2(Function):
    def forward(self, a, b):
        return np.arctan2(*_binary_inputs(a, b))

    def backward(self, gy):
        a, b = self.inputs
        r = a * a + b * b
        zero = _bool_of(r.data == 0)  # at (0, 0) (or a² + b² underflowing) torch's gradient is 0, not nan
        return where(zero, 0.0, gy * b / r), where(zero, 0.0, gy * -a / r)


class Hypot(Function):
    uses_outputs = True

    def forward(self, a, b):
        if a.dtype.kind in "biu" or b.dtype.kind in "biu":
            raise RuntimeError("hypot: not implemented for integer tensors")
        return np.hypot(*_binary_inputs(a, b))

    def backward(self, gy):
        a, b = self.inputs
        h = self.outputs[0]
        return gy * a / h, gy * b / h


class LogAddExp(Function):
    """log(e^a + e^b) (NumPy's, exact at ±inf); d/da = σ(a - b)."""

    def __init__(self, base2: bool = False):
        self.base2 = base2

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, a, b):
        a, b = _binary_inputs(a, b)
        return np.logaddexp2(a, b) if self.base2 else np.logaddexp(a, b)

    def backward(self, gy):
        a, b = self.inputs
        d = (a - b) * _LN2 if self.base2 else a - b
        s = sigmoid(d)
        return gy * s, gy * (1 - s)


class XLogY(Function):
    """x·log(y), 0 where x = 0 (unless y is nan), as torch's ``xlogy``."""

    @silently
    def forward(self, x, y):
        x, y = _binary_inputs(x, y)
        out = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0, out).astype(out.dtype)

    def backward(self, gy):
        x, y = self.inputs
        nonzero = _mask(x.data != 0, gy)
        return gy * xlogy(nonzero, y), gy * x / y


class Fmod(Function):
    """C's fmod: a - b·trunc(a/b), the sign of a; nan for float b = 0."""

    @silently
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        _check_int_divisor(a, b)
        return np.fmod(a, b)

    def backward(self, gy):
        a, b = self.inputs
        q = np.trunc(a.data / b.data) if gy.dtype.kind == "f" else 0
        return gy, gy * -_new(np.asarray(q, dtype=gy.dtype))


class CopySign(Function):
    """|a| with b's sign; d/da = copysign(1, a)·copysign(1, b) (0 where a = 0, as torch); none to b."""

    uses_outputs = True

    def forward(self, a, b):
        return np.copysign(*_binary_inputs(a, b))

    def backward(self, gy):
        a = self.inputs[0].data
        y = self.outputs[0].data
        with np.errstate(all="ignore"):
            ratio = np.where(a == 0, 0, y / np.where(a == 0, 1, a))
        return CopySignGrad(ratio.astype(gy.dtype))(gy, self.inputs[0]), None


class CopySignGrad(Function):
    """copysign's gradient ``gy·ratio`` as an op of (gy, a): its derivative to ``a`` is 0, and nan where ``a``
    is ±0, ±inf or nan, as torch's (it differentiates ``result / self``)."""

    def __init__(self, ratio: np.ndarray):
        self.ratio = ratio

    def forward(self, gy, a):
        return gy * self.ratio

    def backward(self, g):
        gy, a = self.inputs
        special = (a.data == 0) | ~np.isfinite(a.data)
        nan_there = _new(np.where(special, np.nan, 0.0).astype(g.dtype))
        return g * _new(self.ratio), g * gy * nan_there


class FMaxMin(Function):
    """fmax/fmin: NumPy's (a nan loses to a number); the gradient goes to ``a`` on ties, as torch."""

    def __init__(self, is_max: bool):
        self.is_max = is_max

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return np.fmax(a, b) if self.is_max else np.fmin(a, b)

    def backward(self, gy):
        a, b = (t.data for t in self.inputs)
        to_a = ((a >= b) if self.is_max else (a <= b)) | np.isnan(b)
        to_a = np.broadcast_to(to_a, gy.shape)
        return gy * _mask(to_a, gy), gy * _mask(~to_a, gy)


def _binary(cls: Any, a: Any, b: Any, *args: Any) -> Tensor:
    return cls(*args)(*_pair(a, b))


def atan2(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``torch.atan2`` (alias ``arctan2``): the angle of the point (other, input), in (-π, π]."""
    _no_out(out, "atan2")
    return _binary(Atan2, input, other)


arctan2 = atan2


def hypot(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``sqrt(input² + other²)`` without overflow."""
    _no_out(out, "hypot")
    return _binary(Hypot, input, other)


def logaddexp(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``log(exp(input) + exp(other))``, computed stably."""
    _no_out(out, "logaddexp")
    return _binary(LogAddExp, input, other, False)


def logaddexp2(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``log2(2**input + 2**other)``, computed stably."""
    _no_out(out, "logaddexp2")
    return _binary(LogAddExp, input, other, True)


def xlogy(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    _no_out(out, "xlogy")
    return _binary(XLogY, input, other)


def fmod(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``torch.fmod``: the remainder of ``input / other`` with the sign of ``input`` (C's ``fmod``)."""
    _no_out(out, "fmod")
    return _binary(Fmod, input, other)


def copysign(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``|input|`` with the sign of ``other`` (also -0.0's sign bit)."""
    _no_out(out, "copysign")
    return _binary(CopySign, input, other)


def fmax(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The elementwise maximum, ignoring nan (nan only where both are nan)."""
    _no_out(out, "fmax")
    return _binary(FMaxMin, input, other, True)


def fmin(input: Any, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The elementwise minimum, ignoring nan (nan only where both are nan)."""
    _no_out(out, "fmin")
    return _binary(FMaxMin, input, other, False)
