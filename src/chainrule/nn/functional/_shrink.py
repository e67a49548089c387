"""Piecewise activations: threshold, hard/soft/tanh shrink, glu, prelu and rrelu, with torch's gradients.

The piecewise-linear ones are one ``Function`` each whose gradient is the incoming one times a constant
mask (torch's backward masks, which decide what a NaN input gets); ``glu``, ``prelu`` and ``tanhshrink``
compose existing ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule._quiet import silently
from chainrule.autograd.function import Function
from chainrule.nn.functional._utils import as_tensor
from chainrule.random import generator
from chainrule.tensor import Tensor, _new


class _Masked(Function):
    """``forward`` in NumPy; the gradient passes where ``passes(x)`` (a constant mask: no second order)."""

    rule_takes_arrays = True

    def passes(self, x: Any) -> Any:
        raise NotImplementedError

    def backward(self, gy):
        (x,) = self.inputs_like(gy)
        return gy * self.passes(x)


class Threshold(_Masked):
    """torch's ``x <= threshold ? value : x``: a NaN input stays NaN and passes its gradient."""

    def __init__(self, threshold: float, value: float):
        self.threshold, self.value = threshold, value

    def forward(self, x):
        return np.where(x <= self.threshold, np.asarray(self.value, x.dtype), x)

    def passes(self, x):
        return ~(x <= self.threshold)


class Hardshrink(_Masked):
    """torch's ``-lambd <= x <= lambd ? 0 : x``; the gradient passes where ``|x| > lambd`` (so not at NaN, as
    torch's vectorized kernel; its scalar tail loop, for the last elements of short inputs, passes it)."""

    def __init__(self, lambd: float):
        self.lambd = lambd

    def forward(self, x):
        return np.where((x >= -self.lambd) & (x <= self.lambd), np.zeros((), x.dtype), x)

    def passes(self, x):
        return (x < -self.lambd) | (x > self.lambd)


class Softshrink(Hardshrink):
    """torch's ``x > lambd ? x - lambd : (x < -lambd ? x + lambd : 0 * x)``, same mask as hardshrink."""

    @silently  # 0 * inf is nan, as in torch
    def forward(self, x):
        lam = np.asarray(self.lambd, x.dtype)
        return np.where(x > lam, x - lam, np.where(x < -lam, x + lam, x * 0))


def _float_input(input: Any, op: str) -> Tensor:  # noqa: A002
    x = as_tensor(input, op)
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"{op}" not implemented for {str(x.dtype)!r} (pass a floating tensor)')
    return x


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """``value`` where ``x <= threshold``, else ``x``.

    >>> import chainrule as cr
    >>> cr.nn.functional.threshold(cr.tensor([-1.0, 0.5, 2.0]), 0.5, -9.0)
    tensor([-9., -9.,  2.])
    """
    x = _float_input(input, "threshold")
    fn = Threshold(float(threshold), float(value))
    if not inplace:
        return fn(x)
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

    return inplace_op(x, "threshold_", fn)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """In-place :func:`threshold` (``torch.nn.functional.threshold_``)."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x`` where ``|x| > lambd``, else 0."""
    return Hardshrink(float(lambd))(_float_input(input, "hardshrink"))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0 (``lambd >= 0``)."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink(float(lambd))(_float_input(input, "softshrink"))


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """``x - tanh(x)``."""
    x = as_tensor(input, "tanhshrink")
    return x - ops.tanh(x)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    x = as_tensor(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor with {x.ndim} dimensions")
    n = x.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % x.ndim} is size {n}")
    a, b = ops.split(x, n // 2, dim)
    return a * ops.sigmoid(b)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 element or one per channel (dim 1)."""
    x, w = as_tensor(input, "prelu"), as_tensor(weight, "prelu", "weight")
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    numel = w.data.size
    if numel != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = x.shape[1] if x.ndim > 1 else 1
        if channels != numel:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{numel} and channel size = {channels}."
            )
    if x.ndim != w.ndim:
        shape = [1] * x.ndim
        if x.ndim > 1:
            shape[1] = numel
        w = w.reshape(*shape)
    return ops.where(~(x.data > 0), w * x, x)  # torch's "x > 0 ? x : w·x": NaN takes the w·x branch


def rrelu(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: in training each non-positive element is scaled by a slope drawn from
    U(lower, upper) (from chainrule's generator; the gradient is that slope); in eval the mean slope."""
    x = _float_input(input, "rrelu")
    if inplace:
        from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

        return inplace_op(x, "rrelu_", lambda z: rrelu(z, lower, upper, training))
    if lower > upper:
        raise ValueError(f"rrelu: lower bound {lower} must be <= upper bound {upper}")
    if not training:
        return ops.leaky_relu(x, (lower + upper) / 2)
    slopes = backend.to_device_of(generator().uniform(lower, upper, size=x.shape).astype(x.dtype), x.data)
    xp = backend.get_array_module(x.data)
    return x * _new(xp.where(x.data <= 0, slopes, xp.ones((), x.dtype)))


def rrelu_(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
) -> Tensor:
    """In-place :func:`rrelu` (``torch.nn.functional.rrelu_``)."""
    return rrelu(input, lower, upper, training, inplace=True)
