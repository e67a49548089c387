"""Elementwise ops. Each backward is written in tensor ops, so it is differentiable again.

Binary ops broadcast like NumPy; the engine sums a broadcast gradient back to its input's shape.
Ops with a Python-number operand use ``*Scalar`` variants that keep the number out of the graph.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.ops._dtypes import CATEGORY as _CATEGORY
from chainrule.tensor import Tensor, _new, as_array


def _is_number(x: Any) -> bool:
    if x.__class__ is float or x.__class__ is int:  # the common case, without the ABC isinstance below
        return True
    return isinstance(x, (Number, np.generic)) and not isinstance(x, np.ndarray) and np.ndim(x) == 0


def as_tensor_operand(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_input(x: np.ndarray, c: Any) -> np.ndarray:
    """int tensor (op) float number gives float32, as in PyTorch (NumPy would give float64)."""
    if x.dtype.kind in "biu" and isinstance(c, float):
        return x.astype(np.float32)
    return x


def _number(c: Any) -> Any:
    """NumPy scalars become Python numbers, which NumPy 2 treats as weak (float32 stays float32)."""
    return c.item() if isinstance(c, np.generic) else c


def _promote(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cast operands of different dtypes where PyTorch's promotion differs from NumPy's (called only then).

    An int (or bool) with a float gives the float's dtype (NumPy: int64 + float32 -> float64), and a 0-d
    operand does not widen a dimensioned one of the same kind (float32[n] * float64 0-d -> float32).
    """
    ca, cb = _CATEGORY.get(a.dtype.kind, 2), _CATEGORY.get(b.dtype.kind, 2)
    if ca != cb:
        if ca + cb == 5:  # complex with float: the complex type of the widest float that has a say
            return _promote_complex(a, b)
        return (a, b.astype(a.dtype)) if ca > cb else (a.astype(b.dtype), b)
    if (a.ndim == 0) != (b.ndim == 0):
        return (a, b.astype(a.dtype)) if b.ndim == 0 else (a.astype(b.dtype), b)
    return a, b


def _promote_complex(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """complex64[n] + float64[n] -> complex128; a 0-d complex takes a dimensioned float's precision
    (float32[n] + complex128 0-d -> complex64); a 0-d float does not widen a dimensioned complex."""
    c, f = (a, b) if a.dtype.kind == "c" else (b, a)
    if c.ndim != 0 and f.ndim == 0:
        dtype = c.dtype
    elif c.ndim == 0 and f.ndim != 0:
        dtype = np.result_type(f.dtype, np.complex64)
    else:
        dtype = np.result_type(a.dtype, b.dtype)
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


_BOOL_SUB = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. "
    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
)
_BOOL_SUB_BOTH = (
    "Subtraction, the `-` operator, with two bool tensors is not supported. "
    "Use the `^` or `logical_xor()` operator instead."
)
_BOOL_NEG = (
    "Negation, the `-` operator, on a bool tensor is not supported. "
    "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
)


def _is_bool(x: Any) -> bool:
    """A Python/NumPy bool or a bool tensor (the operands torch refuses to subtract)."""
    if x.__class__ is bool or isinstance(x, np.bool_):
        return True
    return isinstance(x, Tensor) and x.data.dtype.kind == "b"


def _floating(x: np.ndarray) -> np.ndarray:
    """Integer input to a float op (exp, sin...) computes in float32, as in PyTorch (NumPy: float64)."""
    return x.astype(np.float32) if x.dtype.kind in "biu" else x


# ---------------------------------------------------------------------------- arithmetic
class Add(Function):
    rule_takes_arrays = True
    uses_inputs = False

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return a + b

    def backward(self, gy):
        return gy, gy


class AddScalar(Function):
    rule_takes_arrays = True
    uses_inputs = False

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        try:
            return _float_input(x, self.c) + self.c
        except OverflowError:  # uint8 tensor + -1: NumPy refuses, torch wraps around
            return x + _wrapped(self.c, x.dtype)

    def backward(self, gy):
        return gy


class Sub(Function):
    rule_takes_arrays = True
    uses_inputs = False

    def forward(self, a, b):
        if a.dtype != b.dtype:
            if a.dtype.kind == "b" or b.dtype.kind == "b":
                raise RuntimeError(_BOOL_SUB)
            a, b = _promote(a, b)
        try:
            return a - b
        except TypeError:  # NumPy refuses bool - bool, as torch does, with its own message
            if a.dtype.kind == "b":
                raise RuntimeError(_BOOL_SUB_BOTH) from None
            raise

    def backward(self, gy):
        return gy, (-gy if self.needs_input_grad[1] else None)


class RSubScalar(Function):
    """c - x"""

    uses_inputs = False

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        try:
            return self.c - _float_input(x, self.c)
        except OverflowError:  # -1 - uint8 tensor: NumPy refuses, torch wraps around
            return _wrapped(self.c, x.dtype) - x

    def backward(self, gy):
        return -gy


class Mul(Function):
    rule_takes_arrays = True

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return a * b

    def backward(self, gy):
        a, b = self.inputs_like(gy)
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class MulScalar(Function):
    rule_takes_arrays = True
    uses_inputs = False

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        try:
            return _float_input(x, self.c) * self.c
        except OverflowError:  # uint8 tensor * -1: NumPy refuses, torch wraps around
            return x * _wrapped(self.c, x.dtype)

    def backward(self, gy):
        return gy * self.c


class Div(Function):
    @silently
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        if a.dtype.kind in "biu":  # true division of integers gives float32, as in PyTorch
            a, b = a.astype(np.float32), b.astype(np.float32)
        # x / 0 is ±inf and 0 / 0 nan, silently, as in torch
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        # -gy * a can be inf * 0 where b == 0
        ga = gy / b if need_a else None
        gb = -gy * a / (b * b) if need_b else None
        return ga, gb


class RDivScalar(Function):
    """c / x"""

    def __init__(self, c):
        self.c = c

    @silently
    def forward(self, x):
        # c / 0 is ±inf (nan for c = 0), silently, as in torch
        return self.c / _floating(x)

    def backward(self, gy):
        (x,) = self.inputs
        return -gy * self.c / (x * x)


class Neg(Function):
    rule_takes_arrays = True
    uses_inputs = False

    def forward(self, x):
        try:
            return -x
        except TypeError:  # NumPy refuses -bool, as torch does, with its own message
            if x.dtype.kind == "b":
                raise RuntimeError(_BOOL_NEG) from None
            raise

    def backward(self, gy):
        return -gy


class PowScalar(Function):
    """x ** c for a constant c."""

    def __init__(self, c):
        self.c = c

    @silently
    def forward(self, x):
        c = self.c
        if x.dtype.kind in "fc":
            if (c.__class__ is int or (c.__class__ is float and c.is_integer())) and c >= 0:
                return x**c  # x ** 2...: finite for finite x (short of overflow), nothing to silence
            # 0 ** -1 is inf, (-1) ** 0.5 nan, silently, as in torch
            return x**c
        return _int_tensor_pow(x, c)

    def backward(self, gy):
        (x,) = self.inputs
        c = self.c
        if c == 2:
            return gy * (x * 2)
        if c == 1:
            return gy
        if c == 0:  # d(x^0)/dx = 0 everywhere, also at x = 0 (where c * x^-1 would be nan), as in torch
            return gy * 0
        if c.__class__ is int and c > 2:
            return gy * (c * x ** (c - 1))
        # c * x^(c-1) is inf at x = 0 for c < 1; gy * inf may be nan
        return gy * (c * x ** (c - 1))


@silently
def _int_tensor_pow(x: np.ndarray, c: Any) -> np.ndarray:
    """An integer or bool tensor to a Python-number power, with torch's result dtype: a float exponent gives
    float32, an int one keeps the tensor's integer dtype (bool becomes int64), and a bool exponent keeps the
    tensor's dtype. Negative int exponents are refused, as in torch."""
    if c.__class__ is bool:  # x ** True is x, x ** False is 1, in x's own dtype (bool stays bool)
        return x.copy() if c else np.ones_like(x)
    if not isinstance(c, int):
        return x.astype(np.complex64 if isinstance(c, complex) else np.float32) ** c
    if c < 0:
        raise RuntimeError(
            f"Integers to negative integer powers are not allowed: {x.dtype} tensor ** {c}; "
            "use a float exponent or convert the tensor with .float() first"
        )
    return (x.astype(np.int64) if x.dtype.kind == "b" else x) ** c


def _int_pow(a: Any, b: np.ndarray) -> np.ndarray:
    """a ** b for integers, with torch's rule for negative exponents (NumPy refuses them): 1 for a base of 1,
    ±1 for -1, else 0. ``a`` may be an array or a Python int; the result has ``b``'s (promoted) dtype."""
    negative = b < 0
    if not negative.any():
        return np.power(a, b)
    out = np.power(a, np.where(negative, 0, b))
    odd = (b % 2) != 0
    fill = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, fill, out).astype(out.dtype, copy=False)


def _bool_pow_error() -> NotImplementedError:
    return NotImplementedError("\"pow\" not implemented for 'Bool' (both base and exponent are bool)")


class RPowScalar(Function):
    """c ** x for a constant c."""

    uses_inputs = False
    uses_outputs = True

    def __init__(self, c):
        self.c = c

    @silently
    def forward(self, x):
        c = self.c
        if x.dtype.kind in "biu":
            if isinstance(c, int):  # an int base keeps an integer exponent's dtype (bool becomes int64)
                if x.dtype.kind == "b":
                    if c.__class__ is bool:
                        raise _bool_pow_error()
                    x = x.astype(np.int64)
                try:
                    return _int_pow(int(c), x)
                except OverflowError:  # -1 ** uint8 tensor: NumPy refuses, torch wraps around
                    return _int_pow(_wrapped(int(c), x.dtype), x)
            x = x.astype(np.complex64 if isinstance(c, complex) else np.float32)
        if isinstance(c, complex) or c <= 0:  # 0 ** -1 is inf, (-2) ** 0.5 nan, silently, as in torch
            return c**x
        return c**x

    def backward(self, gy):
        y = self.outputs[0]
        if self.c == 0:  # 0 ** x is 0 or 1 for x >= 0: torch gives 0 there, not 0 * log(0) = nan; for x < 0
            # it is inf * log 0 = -inf.
            return gy * _new(np.where(y.data == np.inf, -np.inf, 0.0).astype(y.dtype, copy=False))
        return gy * y * (math.log(self.c) if self.c > 0 else math.nan)


class Pow(Function):
    """a ** b with both tensors."""

    uses_outputs = True

    @silently
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        if a.dtype.kind in "biu":
            if a.dtype.kind == "b":
                raise _bool_pow_error()
            return _int_pow(a, b)
        # 0 ** -1 is inf, (-1) ** 0.5 nan, silently, as in torch
        return a**b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = None
        # the formulas below meet inf * 0 where torch's do too
        if need_a:
            zero_exp = b.data == 0
            if zero_exp.any():  # d(a^0)/da = 0, also at a = 0, without computing 0 ** -1 (as in torch)
                ga = where(zero_exp, 0.0, gy * b * a ** where(zero_exp, 1.0, b - 1))
            else:
                ga = gy * b * a ** (b - 1)
        gb = None
        if need_b:
            y = self.outputs[0]
            # d(a^b)/db = a^b log a; 0 where a == 0 and b >= 0 (the limit for b > 0), as PyTorch does
            # (for b < 0 it is inf * log 0 = -inf there).
            safe_a = where((a.data == 0) & (b.data >= 0), 1.0, a)
            gb = gy * y * log(safe_a)
        return ga, gb


_NO_OUT = object()


def _scaled(a: Any, b: Any, alpha: Any, out: Any, op: str) -> Any:
    """``alpha * b`` for ``add``/``sub(a, b, alpha=)``, with torch's checks; ``out=`` is refused."""
    if out is not _NO_OUT:
        raise TypeError(f"{op}(): out= is not supported by chainrule")
    if alpha.__class__ is int and alpha == 1:
        return b
    if not _is_number(alpha):
        raise TypeError(f"{op}(): alpha must be a number, got {type(alpha).__name__}")
    kinds = [x.dtype.kind for x in (a, b) if isinstance(x, Tensor)]
    if isinstance(alpha, (float, np.floating)) and kinds and all(k in "biu" for k in kinds):
        raise RuntimeError(
            f"{op}(): for integral input tensors, argument alpha must not be a floating point number "
            f"(got alpha={alpha})"
        )
    return mul(b, alpha) if isinstance(b, Tensor) else _number(b) * _number(alpha)


def add(a: Any, b: Any, *, alpha: Any = 1, out: Any = _NO_OUT) -> Tensor:
    """``add(input, other, *, alpha=1)``: ``a + alpha * b`` with broadcasting and torch's type promotion."""
    if alpha.__class__ is not int or alpha != 1 or out is not _NO_OUT:
        b = _scaled(a, b, alpha, out, "add")
    if isinstance(b, Tensor) and isinstance(a, Tensor):  # fast path: neither is a number
        return Add()(a, b)
    if _is_number(b):
        return AddScalar(_number(b))(a)
    if _is_number(a):
        return AddScalar(_number(a))(b)
    return Add()(a, b)


def sub(a: Any, b: Any, *, alpha: Any = 1, out: Any = _NO_OUT) -> Tensor:
    """``sub(input, other, *, alpha=1)``: ``a - alpha * b`` with broadcasting and torch's type promotion."""
    if alpha.__class__ is not int or alpha != 1 or out is not _NO_OUT:
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError(_BOOL_SUB)
        b = _scaled(a, b, alpha, out, "sub")
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return Sub()(a, b)
    if _is_number(b):
        if _is_bool(b) or _is_bool(a):
            raise RuntimeError(_BOOL_SUB)
        return AddScalar(-_number(b))(a)
    if _is_number(a):
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError(_BOOL_SUB)
        return RSubScalar(_number(a))(b)
    return Sub()(a, b)


def rsub(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """``rsub(input, other, *, alpha=1)``: ``b - alpha * a`` (the reflected form of ``sub``)."""
    return sub(b, a, alpha=alpha)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting and torch's type promotion."""
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return Mul()(a, b)
    if _is_number(b):
        return MulScalar(_number(b))(a)
    if _is_number(a):
        return MulScalar(_number(a))(b)
    return Mul()(a, b)


def div(a: Any, b: Any, *, rounding_mode: str | None = None, out: Any = _NO_OUT) -> Tensor:
    """``div(input, other, *, rounding_mode=None)``: ``a / b`` with broadcasting (integer inputs give a float
    result, as torch); ``rounding_mode="trunc"`` rounds the quotient towards zero, ``"floor"`` down (both
    keep an integer dtype and have a zero gradient, as in torch)."""
    if out is not _NO_OUT:
        raise TypeError("div(): out= is not supported by chainrule")
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                "div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                f"but found {rounding_mode!r}"
            )
        return DivRounding(rounding_mode)(*_pair(a, b))
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return Div()(a, b)
    if _is_number(b):
        return DivScalar(_number(b))(a)
    if _is_number(a):
        return RDivScalar(_number(a))(b)
    return Div()(a, b)


class DivScalar(Function):
    uses_inputs = False

    def __init__(self, c):
        self.c = c

    @silently
    def forward(self, x):
        if x.dtype.kind in "biu":
            x = x.astype(np.float32)
        if self.c == 0:  # x / 0 is ±inf and 0 / 0 nan (a mean over an empty dim), silently, as in torch
            return x / self.c
        return x / self.c

    def backward(self, gy):
        return gy / self.c


class DivRounding(Function):
    """``div(a, b, rounding_mode="trunc" | "floor")``: piecewise constant, so its gradient is zero."""

    rule_takes_arrays = True
    uses_inputs = False

    def __init__(self, mode: str):
        self.mode = mode

    @silently  # x / 0 is ±inf and 0 / 0 nan for floats, as in torch
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        _check_int_divisor(a, b)
        if a.dtype.kind == "b":
            a, b = a.astype(np.int64), b.astype(np.int64)
        if self.mode == "floor":  # NumPy's float floor_divide is CPython's (and torch's) divmod rule
            return np.floor_divide(a, b)
        if a.dtype.kind in "iu":
            q = np.floor_divide(a, b)
            # floor and trunc differ where the division is inexact and the signs differ
            fix = (q * b != a) & ((a < 0) != (b < 0))
            return (q + fix).astype(q.dtype, copy=False)
        return np.trunc(a / b)

    def backward(self, gy):
        zero = gy * 0
        return zero, zero


def rdiv(a: Any, b: Any) -> Tensor:
    """b / a."""
    return div(b, a)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001
    """``a ** b`` with broadcasting; either side may be a number or a tensor."""
    if _is_number(b):
        return PowScalar(_number(b))(a)
    if _is_number(a):
        return RPowScalar(_number(a))(b)
    return Pow()(a, b)


def rpow(a: Any, b: Any) -> Tensor:
    """b ** a."""
    return pow(b, a)


def neg(x: Tensor) -> Tensor:
    """``-x`` elementwise."""
    return Neg()(x)


# ---------------------------------------------------------------------------- unary math
class Exp(Function):
    rule_takes_arrays = True
    uses_inputs = False
    uses_outputs = True

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.exp(_floating(x))

    def backward(self, gy):
        return gy * self.output_like(gy)


class Expm1(Function):
    uses_outputs = True
    uses_inputs = False

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.expm1(_floating(x))

    def backward(self, gy):
        return gy * (self.outputs[0] + 1)


class Log(Function):
    @silently
    def forward(self, x):
        # log(0) is -inf, log(-1) nan, silently, as in torch
        return np.log(_floating(x))

    def backward(self, gy):
        return gy / self.inputs[0]  # Div is silent at 0 (inf)


class Log1p(Function):
    @silently
    def forward(self, x):
        # log1p(-1) is -inf, log1p(-2) nan, silently, as in torch
        return np.log1p(_floating(x))

    def backward(self, gy):
        return gy / (self.inputs[0] + 1)


class Sqrt(Function):
    uses_inputs = False
    uses_outputs = True

    @silently
    def forward(self, x):
        # sqrt(-1) is nan, silently, as in torch
        return np.sqrt(_floating(x))

    def backward(self, gy):
        return gy / (self.outputs[0] * 2)  # inf at 0, silently (Div), as in torch


class Rsqrt(Function):
    """1 / sqrt(x): nan below 0 (and at -inf, where x ** -0.5 would give 0), inf at 0, as in torch."""

    uses_inputs = False
    uses_outputs = True

    @silently
    def forward(self, x):
        return 1 / np.sqrt(_floating(x))

    def backward(self, gy):
        y = self.outputs[0]
        return gy * (y * y * y * -0.5)


class Square(Function):
    @silently  # overflow to inf, as in torch
    def forward(self, x):
        return np.square(x)

    def backward(self, gy):
        return gy * (self.inputs[0] * 2)


class Sin(Function):
    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.sin(_floating(x))

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.cos(_floating(x))

    def backward(self, gy):
        return gy * -sin(self.inputs[0])


class Tan(Function):
    uses_inputs = False
    uses_outputs = True

    @silently  # overflow to inf, nan at inf, as in torch
    def forward(self, x):
        return np.tan(_floating(x))

    def backward(self, gy):
        y = self.outputs[0]
        return gy * (y * y + 1)


class Tanh(Function):
    rule_takes_arrays = True
    uses_inputs = False
    uses_outputs = True

    def forward(self, x):
        return np.tanh(_floating(x))

    def backward(self, gy):
        y = self.output_like(gy)
        return gy * (1 - y * y)


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e^-x): below about -709 e^-x is inf and σ is 0, silently; accurate to an ulp in both
    tails (σ(-40) = 4.2e-18, where ½(1 + tanh(x/2)) rounds to 0)."""

    rule_takes_arrays = True

    uses_inputs = False
    uses_outputs = True

    @silently
    def forward(self, x):
        return 1.0 / (1.0 + np.exp(-_floating(x)))

    def backward(self, gy):
        y = self.output_like(gy)
        return gy * (y * (1 - y))


def _sign(x: np.ndarray) -> np.ndarray:
    """torch's sign: 0 at nan (NumPy: nan), and a bool tensor is its own sign."""
    if x.dtype.kind == "b":
        return x.copy()
    out = np.sign(x)
    if x.dtype.kind == "f":
        out = np.where(np.isnan(x), out.dtype.type(0), out)  # np.where: also an array for a 0-d x
    return out


class Abs(Function):
    def forward(self, x):
        return np.abs(x)

    def backward(self, gy):
        # torch's gradient is gy * sign(x): 0 at nan and at 0
        return gy * _new(_sign(self.inputs[0].data))


class Sign(Function):
    uses_inputs = False

    def forward(self, x):
        return _sign(x)

    def backward(self, gy):
        return gy * 0


class ReLU(Function):
    rule_takes_arrays = True

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        (x,) = self.inputs_like(gy)
        return gy * ~(x <= 0)  # a constant mask; torch's "not <= 0" passes the gradient at NaN


class LeakyReLU(Function):
    def __init__(self, negative_slope: float):
        self.slope = negative_slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * _new(np.where(x > 0, 1, self.slope).astype(x.dtype))


class ELU(Function):
    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, gy):
        x = self.inputs[0]
        negative = _new((x.data <= 0).astype(x.dtype))
        # exp(x) where x < 0, exp(0) elsewhere: no overflow, and (as in torch) no second derivative at x = 0
        return gy * (1 - negative + negative * exp(where(x.data < 0, x, 0.0)) * self.alpha)


class Softplus(Function):
    """log(1 + e^(βx))/β, linear above ``threshold`` as in PyTorch; stable for any x."""

    def __init__(self, beta: float, threshold: float):
        self.beta, self.threshold = beta, threshold

    @silently  # nan at nan, as in torch
    def forward(self, x):
        bx = x * self.beta
        return np.where(bx > self.threshold, x, np.logaddexp(0, bx) / self.beta).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.inputs[0]
        bx = x * self.beta
        linear = _new((bx.data > self.threshold).astype(x.dtype))
        return gy * (linear + (1 - linear) * sigmoid(bx))


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function: SciPy's when it is installed, else the standard library's; CuPy's on CUDA."""
    return backend.erf(x)


class GELU(Function):
    """x·Φ(x) (``approximate='none'``) or the tanh approximation, as in PyTorch."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        if self.approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + _erf(x / _SQRT_2))

    def backward(self, gy):
        x = self.inputs[0]
        if self.approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
            t = tanh(inner)
            d_inner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
            return gy * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * d_inner)
        cdf = (erf(x / _SQRT_2) + 1) * 0.5
        pdf = exp(x * x * -0.5) * _INV_SQRT_2PI
        return gy * (cdf + x * pdf)


class Erf(Function):
    def forward(self, x):
        return _erf(_floating(x))

    def backward(self, gy):
        x = self.inputs[0]
        return gy * exp(-(x * x)) * (2 / math.sqrt(math.pi))


class SiLU(Function):
    @silently  # x / inf is -0 far below 0, -inf / inf nan, as in torch
    def forward(self, x):
        return x / (1.0 + np.exp(-x))

    def backward(self, gy):
        x = self.inputs[0]
        s = sigmoid(x)
        return gy * (s * (x * (1 - s) + 1))


class Clamp(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = backend.ones(x.shape, bool, x)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return gy * _new(inside.astype(gy.dtype))


class ClampTensor(Function):
    """clamp with Tensor bounds (``lo`` and/or ``hi``): min(max(x, lo), hi), routing the gradient as
    ``torch.clamp`` does: to x where lo <= x <= hi, to lo where x < lo, to hi where x > hi (no tie split)."""

    def __init__(self, has_lo: bool, has_hi: bool):
        self.has_lo, self.has_hi = has_lo, has_hi

    def forward(self, x, *bounds):
        out = x
        if self.has_lo:
            out, lo = _promote(out, bounds[0]) if out.dtype != bounds[0].dtype else (out, bounds[0])
            out = np.maximum(out, lo)
        if self.has_hi:
            out, hi = _promote(out, bounds[-1]) if out.dtype != bounds[-1].dtype else (out, bounds[-1])
            out = np.minimum(out, hi)
        return out

    def backward(self, gy):
        x, *bounds = (t.data for t in self.inputs)
        lo = bounds[0] if self.has_lo else None
        hi = bounds[-1] if self.has_hi else None
        to_x = backend.ones(gy.shape, bool, x)
        grads = []
        if lo is not None:
            to_x &= x >= lo
        if hi is not None:
            to_x &= x <= hi
        grads.append(gy * _new(to_x.astype(gy.dtype)))
        if lo is not None:
            to_lo = (x < lo) & (lo < hi) if hi is not None else x < lo
            grads.append(gy * _new(np.broadcast_to(to_lo, gy.shape).astype(gy.dtype)))
        if hi is not None:
            to_hi = (x > hi) | (hi < lo) if lo is not None else x > hi
            grads.append(gy * _new(np.broadcast_to(to_hi, gy.shape).astype(gy.dtype)))
        return tuple(grads)


class Maximum(Function):
    """Elementwise max; on ties each side gets half the gradient (as PyTorch)."""

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return np.maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _tie_split(gy, a.data, b.data, np.less, np.greater)


class Minimum(Function):
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return np.minimum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        return _tie_split(gy, a.data, b.data, np.greater, np.less)


class Remainder(Function):
    """a - b * floor(a / b): Python's ``%`` (the sign of b), as torch's ``remainder``; nan for float b = 0."""

    @silently
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        _check_int_divisor(a, b)
        return np.mod(a, b)

    def backward(self, gy):
        a, b = self.inputs
        # torch: -gy * div(a, b, rounding_mode="floor"), NumPy's floor_divide (floor(a / b) rounds apart)
        return gy, gy * _new(-np.floor_divide(a.data, b.data).astype(gy.dtype))


class FloorDivide(Function):
    """floor(a / b), as torch's ``//``; like torch, it has no derivative (backward raises)."""

    @silently
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        _check_int_divisor(a, b)
        return np.floor_divide(a, b)

    def backward(self, gy):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented")


def _check_int_divisor(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype.kind in "biu" and not (b != 0).all():  # NumPy would give 0 with a warning
        raise RuntimeError("ZeroDivisionError")  # torch's message for integer division by zero


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b`` with the sign of ``b`` (Python's and torch's rule)."""
    return Remainder()(*_pair(a, b))


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: the quotient rounded towards minus infinity (no gradient)."""
    return FloorDivide()(*_pair(a, b))


def _tie_split(gy: Tensor, a: np.ndarray, b: np.ndarray, a_loses: Any, b_loses: Any) -> tuple[Tensor, Tensor]:
    """torch's rule for maximum/minimum: half the gradient each on a tie, none to the side that loses, and
    the whole gradient to both where either is nan (nan compares neither equal nor less)."""
    dtype = gy.dtype
    tie = a == b
    wa = np.where(tie, 0.5, np.where(a_loses(a, b), 0.0, 1.0))
    wb = np.where(tie, 0.5, np.where(b_loses(a, b), 0.0, 1.0))
    wa_t = _new(backend.ensure_array(wa).astype(dtype, copy=False))
    wb_t = _new(backend.ensure_array(wb).astype(dtype, copy=False))
    return gy * wa_t, gy * wb_t


class Where(Function):
    """where(cond, a, b); ``cond`` is a constant boolean array."""

    uses_inputs = False

    def __init__(self, cond: np.ndarray):
        self.cond = cond

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        return np.where(self.cond, a, b)

    def backward(self, gy):
        mask = _new(self.cond.astype(gy.dtype))
        return gy * mask, gy * (1 - mask)


class Cast(Function):
    uses_inputs = False

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    @silently  # nan or inf to an integer, a float64 overflowing float16: torch casts silently too
    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.to(self.in_dtype) if self.in_dtype.kind in "fc" else None


class Clone(Function):
    uses_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


class ToDevice(Function):
    uses_inputs = False

    def __init__(self, device: str):
        self.device = device

    def forward(self, x):
        from chainrule import backend  # noqa: PLC0415

        self.in_device = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return gy.to(self.in_device)


# ---------------------------------------------------------------------------- function forms
def exp(x: Tensor) -> Tensor:
    """``e ** x`` elementwise."""
    return Exp()(x)


def expm1(x: Tensor) -> Tensor:
    """``exp(x) - 1``, accurate for small ``x``."""
    return Expm1()(x)


def log(x: Tensor) -> Tensor:
    """The natural logarithm, elementwise."""
    return Log()(x)


def log1p(x: Tensor) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``."""
    return Log1p()(x)


def sqrt(x: Tensor) -> Tensor:
    """The square root, elementwise."""
    return Sqrt()(x)


def rsqrt(x: Tensor) -> Tensor:
    """``1 / sqrt(x)`` elementwise (nan for x < 0, as torch)."""
    return Rsqrt()(x)


def square(x: Tensor) -> Tensor:
    """``x * x`` elementwise."""
    return Square()(x)


def sin(x: Tensor) -> Tensor:
    """The sine, elementwise."""
    return Sin()(x)


def cos(x: Tensor) -> Tensor:
    """The cosine, elementwise."""
    return Cos()(x)


def tan(x: Tensor) -> Tensor:
    """The tangent, elementwise."""
    return Tan()(x)


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    return Tanh()(x)


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function ``1 / (1 + exp(-x))``, elementwise."""
    return Sigmoid()(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """``|x|`` elementwise (the gradient at 0 is 0, as torch)."""
    return Abs()(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (gradient 0)."""
    return Sign()(x)


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise (the gradient at 0 is 0)."""
    return ReLU()(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return LeakyReLU(negative_slope)(x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return ELU(alpha)(x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``x * Φ(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    return GELU(approximate)(x)


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise."""
    return Erf()(x)


def silu(x: Tensor) -> Tensor:
    """SiLU (swish): ``x * sigmoid(x)``."""
    return SiLU()(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return Softplus(beta, threshold)(x)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clip to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [b if isinstance(b, Tensor) else _pair(x, b)[1] for b in (min, max) if b is not None]
        return ClampTensor(min is not None, max is not None)(x, *bounds)
    return Clamp(min, max)(x)


clip = clamp


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = _new(backend.to_device_of(_number_like(b, a.dtype) if _is_number(b) else as_array(b), a.data))
    elif isinstance(b, Tensor) and not isinstance(a, Tensor):
        a = _new(backend.to_device_of(_number_like(a, b.dtype) if _is_number(a) else as_array(a), b.data))
    return as_tensor_operand(a), as_tensor_operand(b)


def _number_like(c: Any, dtype: np.dtype) -> np.ndarray:
    """A Python number as a 0-d array of the tensor's dtype, unless that would truncate it (1.5 with an int
    tensor stays a float32 number)."""
    c = _number(c)
    if dtype.kind in "biu" and not isinstance(c, (int, bool)):
        return np.asarray(c, dtype=np.float32)
    if dtype.kind == "b" and not isinstance(c, bool):
        return np.asarray(c)
    try:
        return np.asarray(c, dtype=dtype)
    except OverflowError:  # -1 with a uint8 tensor: NumPy refuses, torch wraps around
        return _wrapped(c, dtype)


def _wrapped(c: int, dtype: np.dtype) -> np.ndarray:
    """An int outside an integer dtype's range, wrapped around into it as torch does (-1 -> 255 for uint8)."""
    return np.asarray(c).astype(dtype)


def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise maximum of ``a`` and ``b``; a tie splits the gradient evenly, as torch."""
    return Maximum()(*_pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """The elementwise minimum of ``a`` and ``b``; a tie splits the gradient evenly, as torch."""
    return Minimum()(*_pair(a, b))


_NO_VALUE = object()


def nonzero(x: Any, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one index tensor per dim."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    per_dim = np.nonzero(data.reshape(1) if data.ndim == 0 else data)
    if as_tuple:
        return tuple(_new(i.astype(np.int64)) for i in per_dim)
    if data.ndim == 0:  # a 0-d tensor: one row of no coordinates if it is non-zero (torch's shape (n, 0))
        return _new(np.zeros((len(per_dim[0]), 0), dtype=np.int64))
    return _new(np.stack(per_dim, axis=1).astype(np.int64))


def where(condition: Any, a: Any = _NO_VALUE, b: Any = _NO_VALUE) -> Any:
    """Pick from ``a`` where ``condition`` else from ``b`` (``condition`` gets no gradient). With only the
    condition, its non-zero indices as a tuple, as ``torch.where(cond)``."""
    if a is _NO_VALUE and b is _NO_VALUE:
        return nonzero(condition, as_tuple=True)
    if a is _NO_VALUE or b is _NO_VALUE:
        raise TypeError("where() takes a condition and both a and b, or the condition alone")
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b)
    if backend._cupy is not None:  # the condition joins the data's device
        cond = backend.to_device_of(backend.asarray(cond, like=cond), a.data)
        return Where(cond.astype(bool, copy=False))(a, b)
    return Where(np.asarray(cond, dtype=bool))(a, b)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``, differentiable (the gradient is cast back)."""
    return Cast(dtype)(x)


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that stays in the graph (``torch.clone``)."""
    return Clone()(x)


def to_device(x: Tensor, device: str) -> Tensor:
    """``x`` on ``device`` (``'cpu'`` or ``'cuda'``), differentiable; ``x`` itself when already there."""
    from chainrule import backend  # noqa: PLC0415

    if backend.device_of(x.data) == device:
        return x
    return ToDevice(device)(x)


# ---------------------------------------------------------------------------- comparisons (no gradient)
def _compare(ufunc: Any, a: Any, b: Any) -> Tensor:
    da = a.data if isinstance(a, Tensor) else a
    db = b.data if isinstance(b, Tensor) else b
    return _new(backend.ensure_array(ufunc(da, db)))


def lt(a: Any, b: Any) -> Tensor:
    """``a < b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.less, a, b)


def le(a: Any, b: Any) -> Tensor:
    """``a <= b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.less_equal, a, b)


def gt(a: Any, b: Any) -> Tensor:
    """``a > b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.greater, a, b)


def ge(a: Any, b: Any) -> Tensor:
    """``a >= b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.greater_equal, a, b)


def eq(a: Any, b: Any) -> Tensor:
    """``a == b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.equal, a, b)


def ne(a: Any, b: Any) -> Tensor:
    """``a != b`` elementwise, as a bool tensor (no gradient)."""
    return _compare(np.not_equal, a, b)


def logical_not(a: Tensor) -> Tensor:
    """Elementwise logical not (truthiness of each element), as a bool tensor."""
    return _new(backend.ensure_array(np.logical_not(a.data)))


def logical_and(a: Any, b: Any) -> Tensor:
    """Elementwise logical and of ``a`` and ``b`` (truthiness of each element), as a bool tensor."""
    return _compare(np.logical_and, a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    """Elementwise logical or of ``a`` and ``b`` (truthiness of each element), as a bool tensor."""
    return _compare(np.logical_or, a, b)


def logical_xor(a: Any, b: Any) -> Tensor:
    """Elementwise exclusive or of the truth values, as a bool tensor."""
    return _compare(np.logical_xor, a, b)


def isnan(x: Tensor) -> Tensor:
    """Whether each element is NaN, as a bool tensor."""
    return _new(backend.ensure_array(np.isnan(x.data)))


def isfinite(x: Tensor) -> Tensor:
    """Whether each element is finite (not inf or NaN), as a bool tensor."""
    return _new(backend.ensure_array(np.isfinite(x.data)))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol * |b|``, as a bool tensor (no gradient)."""
    da = a.data if isinstance(a, Tensor) else a
    db = b.data if isinstance(b, Tensor) else b
    return _new(backend.ensure_array(np.isclose(da, db, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def equal(a: Any, b: Any) -> bool:
    """``torch.equal``: the same shape and the same values."""
    da = np.asarray(a.data if isinstance(a, Tensor) else a)
    db = np.asarray(b.data if isinstance(b, Tensor) else b)
    return da.shape == db.shape and bool((da == db).all())


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether ``a`` and ``b`` are elementwise equal within ``atol + rtol * |b|`` (a bool; no gradient)."""
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


class Round(Function):
    """Round half to even (as torch and NumPy); the gradient is 0 everywhere, as torch's."""

    uses_inputs = False

    def __init__(self, decimals: int):
        self.decimals = decimals

    def forward(self, x):
        return np.round(x, self.decimals)

    def backward(self, gy):
        return gy * 0.0


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """``torch.round``: to ``decimals`` places, half to even. (Like torch, ``Tensor`` has no ``__round__``:
    use ``x.round()`` or ``round(x.item())``.)"""
    return Round(int(decimals))(x)
