"""Activations and (log-)softmax; softmax and log-softmax are fused Functions with tensor-op backwards."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import ops
from chainrule._quiet import quiet_off, quiet_on, silently
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor, _new


def _softmax_dim(ndim: int) -> int:
    """torch's implicit dim when ``dim=None`` (a legacy rule: 0 for 0-, 1- and 3-D inputs, else 1)."""
    return 0 if ndim in (0, 1, 3) else 1


def _norm_dim(dim: int | None, ndim: int, op: str) -> int:
    if dim is None:
        return _softmax_dim(ndim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % n


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # an empty row (or batch) has no max: nothing to shift
        return x
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0)


class _AlongAxis(Function):
    """A Function normalising along ``axis`` whose backward needs only its output."""

    uses_inputs = False
    uses_outputs = True

    def __init__(self, axis: int):
        self.axis = axis


def _along_dim(
    fn: type[_AlongAxis], x: Tensor, dim: int | None, dtype: Any, op: str, stacklevel: int
) -> Tensor:
    """``fn`` applied along ``dim`` (torch's implicit dim, with its warning, when ``None``), after an optional
    cast."""
    if dim is None:
        _implicit_dim_warning(op, stacklevel + 1)
    if dtype is not None:
        x = x.to(dtype)
    return fn(_norm_dim(dim, x.ndim, op))(x)


def _implicit_dim_warning(op: str, stacklevel: int) -> None:
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )


class Softmax(_AlongAxis):
    """exp(x - max) / sum; backward y·(gy - Σ gy·y) (tensor ops, so twice differentiable)."""

    @silently  # a row of -inf is 0 / 0 = nan, silently, as in torch
    def forward(self, x):
        if x.ndim == 0:
            return np.ones_like(x)
        e = np.exp(_shifted(x, self.axis))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.outputs[0]
        if not _grad_state.grad_enabled:
            yd, g = y.data, gy.data
            return _new(yd * (g - (g * yd).sum(axis=self.axis, keepdims=True)))
        return y * (gy - (gy * y).sum(dim=self.axis, keepdim=True))


class LogSoftmax(_AlongAxis):
    """x - logsumexp(x); backward gy - exp(y)·Σ gy."""

    @silently  # a row of -inf is log(0) = -inf, then -inf - -inf = nan, silently, as in torch
    def forward(self, x):
        if x.ndim == 0:
            return np.zeros_like(x)
        z = _shifted(x, self.axis)
        return z - np.log(np.exp(z).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        y = self.outputs[0]
        if not _grad_state.grad_enabled:
            return _new(gy.data - np.exp(y.data) * gy.data.sum(axis=self.axis, keepdims=True))
        return gy - ops.exp(y) * gy.sum(dim=self.axis, keepdim=True)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """Softmax along ``dim``, stable for any finite logits.

    >>> import chainrule as cr
    >>> cr.nn.functional.softmax(cr.tensor([[1e4, 0.0]]), dim=1)
    tensor([[1., 0.]])
    """
    return _along_dim(Softmax, as_tensor(input, "softmax"), dim, dtype, "softmax", _stacklevel)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """log(softmax(x)) computed as x - logsumexp(x): finite for logits of any size."""
    return _along_dim(LogSoftmax, as_tensor(input, "log_softmax"), dim, dtype, "log_softmax", _stacklevel)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """``softmax(-x, dim)``: values in (0, 1) that sum to 1 along ``dim``."""
    x = as_tensor(input, "softmin")
    if dim is None:
        _implicit_dim_warning("softmin", _stacklevel)
        dim = _softmax_dim(x.ndim)
    return softmax(-x, dim, dtype=dtype)


# ---------------------------------------------------------------------------- pointwise activations
def _act(input: Any, name: str, inplace: bool, fn: Callable[[Tensor], Tensor]) -> Tensor:  # noqa: A002
    """``fn(input)``; with ``inplace=True`` written into ``input`` (torch's ``F.<name>_``: the same object
    back, version bumped, recorded by autograd; a leaf that requires grad is refused)."""
    x = as_tensor(input, name)
    if not inplace:
        return fn(x)
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

    return inplace_op(x, f"{name}_", fn)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place :func:`relu` (``torch.nn.functional.relu_``)."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0); ``inplace=True`` writes into ``input`` (as :meth:`Tensor.relu_`) and returns it."""
    return _act(input, "relu", inplace, ops.relu)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """The logistic function ``1 / (1 + exp(-x))``."""
    return ops.sigmoid(as_tensor(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """The hyperbolic tangent, elementwise."""
    return ops.tanh(as_tensor(input, "tanh"))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU: ``x * Φ(x)``; ``approximate='tanh'`` uses the tanh approximation, as torch."""
    return ops.gelu(as_tensor(input, "gelu"), approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SiLU (swish): ``x * sigmoid(x)``; ``inplace=True`` writes into ``input``."""
    return _act(input, "silu", inplace, ops.silu)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold`` (as torch)."""
    return ops.softplus(as_tensor(input, "softplus"), beta, threshold)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x`` where positive, ``negative_slope * x`` elsewhere; ``inplace=True`` writes into ``input``."""
    return _act(input, "leaky_relu", inplace, lambda x: ops.leaky_relu(x, negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """ELU: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere; ``inplace=True`` writes ``input``."""
    return _act(input, "elu", inplace, lambda x: ops.elu(x, alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SELU: ``scale * elu(x, alpha)`` with torch's self-normalising constants."""
    return _act(input, "selu", inplace, lambda x: ops.elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """CELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise."""
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero")
    return _act(input, "celu", inplace, lambda x: ops.elu(x / alpha, 1.0) * alpha)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log σ(x) = -softplus(-x), finite for any x."""
    return -ops.softplus(-as_tensor(input, "logsigmoid"), 1.0, math.inf)


class Hardtanh(Function):
    """clip(x, lo, hi), whose gradient is 0 at the clip points themselves (torch's hardtanh_backward: the
    open interval lo < x < hi), unlike ``clamp``, which passes it there."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * _new(((x > self.lo) & (x < self.hi)).astype(gy.dtype))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``clamp(x, min_val, max_val)`` (gradient 1 inside, 0 outside)."""
    if max_val < min_val:
        raise ValueError("hardtanh: max_val cannot be less than min_val")
    return _act(input, "hardtanh", inplace, Hardtanh(min_val, max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """``x / (1 + |x|)``."""
    x = as_tensor(input, "softsign")
    return x / (ops.abs(x) + 1)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mish: ``x * tanh(softplus(x))``."""
    token = quiet_on()  # -inf * 0 is nan, silently, as in torch
    try:
        return _act(input, "mish", inplace, lambda x: x * ops.tanh(ops.softplus(x)))
    finally:
        quiet_off(token)


class Hardsigmoid(Function):
    """clip((x + 3) / 6, 0, 1); gradient 1/6 strictly between -3 and 3, 0 at the kinks (as torch)."""

    # torch's kernel multiplies by the float32 constant 1/6 even in float64: the same number here.
    ONE_SIXTH = float(np.float32(1.0) / np.float32(6.0))

    def forward(self, x):
        return np.clip((x + 3) / 6, 0, 1)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * _new(((x > -3) & (x < 3)).astype(gy.dtype) * self.ONE_SIXTH)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Hard sigmoid: ``clamp(x / 6 + 1/2, 0, 1)``; gradient 0 at the kinks, as torch's."""
    return _act(input, "hardsigmoid", inplace, Hardsigmoid())


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x · clip(x / 6 + 1/2, 0, 1); gradient 0 at -3 and 1 at 3, as torch's."""
    return _act(input, "hardswish", inplace, lambda x: x * Hardtanh(0.0, 1.0)(x / 6 + 0.5))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)) along ``dim`` (torch's formula: x1 and x2 broadcast
    first, then each side is normalized by its own clamped norm; the clamp passes the gradient, as torch's
    no-grad in-place clamp does)."""
    a, b = as_tensor(x1, "cosine_similarity"), as_tensor(x2, "cosine_similarity", "x2")
    if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
        a, b = (
            a.to(np.float32) if a.dtype.kind not in "fc" else a,
            b.to(np.float32) if b.dtype.kind not in "fc" else b,
        )
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = a.expand(*shape), b.expand(*shape)

    def unit(t: Tensor) -> Tensor:
        n = ops.norm(t, 2, dim, keepdim=True)
        return t / (n + _new((np.maximum(n.data, eps) - n.data).astype(n.dtype, copy=False)))

    return (unit(a) * unit(b)).sum(dim=dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """x / max(‖x‖_p, eps) along ``dim``."""
    x = as_tensor(input, "normalize")
    return x / ops.clamp(ops.norm(x, p, dim, keepdim=True), min=eps)
