"""Elementwise ops under PyTorch's names that are compositions of other ops (``lerp``, ``addcmul``,
``logit``, ``float_power``...) or have no gradient (``heaviside``, ``nextafter``, ``frexp``).

>>> import chainrule as cr
>>> cr.lerp(cr.tensor([0.0]), cr.tensor([10.0]), 0.25).tolist()
[2.5]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule._quiet import quiet_off, quiet_on, silently
from chainrule.autograd.function import Function
from chainrule.ops.elementwise import _is_number, _pair, _promote, cast, clamp, div, log, mul, pow, where
from chainrule.ops.elementwise_math import _bool_of, _no_out
from chainrule.tensor import Tensor, _new


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)`` (torch's two-sided formula, exact at weight 0 and 1)."""
    _no_out(out, "lerp")
    diff = end - input
    if _is_number(weight):
        return input + diff * weight if abs(weight) < 0.5 else end - diff * (1 - weight)
    small = _bool_of(np.abs(weight.data) < 0.5)
    return where(small, input + diff * weight, end - diff * (1 - weight))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2``."""
    _no_out(out, "addcmul")
    prod = mul(tensor1, tensor2)
    return input + (prod if value == 1 else prod * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2`` (integer tensors are refused, as in torch)."""
    _no_out(out, "addcdiv")
    if tensor1.dtype.kind in "biu" and tensor2.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported; use "
            "(input + value * torch.trunc(tensor1 / tensor2)) or true division instead"
        )
    quot = div(tensor1, tensor2)
    return input + (quot if value == 1 else quot * value)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """``torch.clamp_min``: ``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """``torch.clamp_max``: ``clamp(input, max=max)``."""
    return clamp(input, max=max)


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """``log(z / (1 - z))``, ``z = clamp(input, eps, 1 - eps)`` when ``eps`` is given (gradient 0 outside)."""
    z = input if input.dtype.kind == "f" else cast(input, np.float32)
    if eps is not None:
        z = clamp(z, eps, 1 - eps)
    return log(z / (1 - z))


class NanToNum(Function):
    """nan -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (the dtype's extremes by default); the
    gradient passes where the element is finite, 0 elsewhere, as torch."""

    def __init__(self, nan: float, posinf: float | None, neginf: float | None):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        if x.dtype.kind not in "fc":
            return x.copy()
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, gy):
        finite = np.isfinite(self.inputs[0].data)
        return gy * _new(finite.astype(gy.dtype))


def nan_to_num(
    input: Tensor,  # noqa: A002
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
    *,
    out: Any = None,
) -> Tensor:
    """``torch.nan_to_num``: nan, +inf and -inf replaced by ``nan``, ``posinf``, ``neginf``."""
    _no_out(out, "nan_to_num")
    return NanToNum(0.0 if nan is None else nan, posinf, neginf)(input)


def float_power(input: Any, exponent: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input ** exponent`` computed in float64 (the result is float64, as torch)."""
    _no_out(out, "float_power")
    if (isinstance(input, Tensor) and input.dtype.kind == "c") or (
        isinstance(exponent, Tensor) and exponent.dtype.kind == "c"
    ):
        raise NotImplementedError("float_power: complex tensors are not supported")
    a = cast(input, np.float64) if isinstance(input, Tensor) else float(input)
    b = cast(exponent, np.float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(a, Tensor):
        return pow(Tensor(np.asarray(a)), b)
    return pow(a, b)


def true_divide(dividend: Any, divisor: Any, *, out: Any = None) -> Tensor:
    """``torch.true_divide``: the same as ``div`` (true division)."""
    _no_out(out, "true_divide")
    return div(dividend, divisor)


class Ldexp(Function):
    """``x * 2 ** e`` for an integer ``e``, by NumPy's exact ldexp; the gradient is to ``x`` only."""

    @silently  # 1 * 2 ** 2000 overflows to inf, as in torch
    def forward(self, x, e):
        x, e = np.broadcast_arrays(x, np.clip(e, -(2**20), 2**20).astype(np.int32))
        return np.ldexp(x, e).astype(x.dtype, copy=False)

    def backward(self, gy):
        e = self.inputs[1].data
        shape = np.broadcast_shapes(self.inputs[0].shape, e.shape)
        scale = ldexp(Tensor(np.ones(shape, gy.dtype)), self.inputs[1])
        return gy * scale, None


def ldexp(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:  # noqa: A002
    """``input * 2 ** other``."""
    _no_out(out, "ldexp")
    x = input if input.dtype.kind in "fc" else cast(input, np.float32)
    if x.dtype.kind == "f" and isinstance(other, Tensor) and other.dtype.kind in "iu":
        return Ldexp()(
            x, other
        )  # exact, as torch's for an integer exponent: ldexp(0, 2000) is 0, not 0 * inf
    two = Tensor(np.asarray(2.0, dtype=x.dtype))
    token = quiet_on()  # 2 ** 1024 is inf and 0 * inf nan, silently, as in torch
    try:
        return mul(x, pow(two, other))
    finally:
        quiet_off(token)


def heaviside(input: Tensor, values: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """0 where ``input < 0``, ``values`` where ``input == 0``, 1 where ``input > 0`` (no gradient)."""
    _no_out(out, "heaviside")
    a, v = _pair(input, values)
    if a.dtype != v.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes ({a.dtype}, {v.dtype})"
        )
    x = a.data
    res = np.where(x == 0, v.data, (x > 0)).astype(x.dtype)
    return _new(backend.ensure_array(res))


class NextAfter(Function):
    """The next float after ``a`` toward ``b``; torch's gradient is 1 to ``a`` and 0 to ``b``."""

    uses_inputs = False

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        if a.dtype.kind != "f":
            raise RuntimeError(f"nextafter: not implemented for dtype {a.dtype}")
        return np.nextafter(a, b)

    def backward(self, gy):
        return gy, gy * 0.0


def nextafter(input: Tensor, other: Any, *, out: Any = None) -> Tensor:  # noqa: A002
    """The next float after ``input`` toward ``other``."""
    _no_out(out, "nextafter")
    return NextAfter()(*_pair(input, other))


class Mantissa(Function):
    """frexp's mantissa; its gradient is ``gy / 2 ** exponent``, as torch's."""

    def forward(self, x):
        if x.dtype.kind != "f":
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        return np.frexp(x)[0]

    def backward(self, gy):
        e = np.frexp(self.inputs[0].data)[1]
        return gy * _new(np.ldexp(np.ones((), gy.dtype), -e).astype(gy.dtype))


def frexp(input: Tensor, *, out: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent``, ``|mantissa|`` in [0.5, 1); the
    exponent is int32 and has no gradient, as torch's."""
    _no_out(out, "frexp")
    mantissa = Mantissa()(input)
    return mantissa, _new(backend.ensure_array(np.frexp(input.data)[1].astype(np.int32)))
