"""Check gradients: central differences against backprop, in float64, with reports that name the element.

Works on tensors on any device: constants (projection weights, zero gradients) are made on the device of
the tensors they meet, and the comparison runs on host copies.

>>> import chainrule as cr
>>> x = cr.tensor([0.3, -1.2], dtype="float64", requires_grad=True)
>>> cr.gradcheck(lambda t: (t.tanh() * t).sum(), [x])
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import grad as _grad
from chainrule.tensor import Tensor, _new


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytic and numerical gradients disagree."""


def numerical_diff(f: Callable[[Any], Any], x: Any, eps: float = 1e-4) -> Any:
    """The seeds' central difference (f(x+eps) - f(x-eps)) / 2eps, for a Tensor or Variable ``x``.

    ``f`` may be a plain function or a ``Function`` instance; returns an array like ``f(x).data``.
    """
    cls = type(x) if isinstance(x, Tensor) else Tensor
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    x0 = cls(data - eps)
    x1 = cls(data + eps)
    y0 = f(x0)
    y1 = f(x1)
    return (_data(y1) - _data(y0)) / (2 * eps)


def _data(y: Any) -> np.ndarray:
    return y.data if isinstance(y, Tensor) else np.asarray(y)


def _as_list(inputs: Any) -> list[Tensor]:
    return [inputs] if isinstance(inputs, Tensor) else list(inputs)


def _scalar_output(
    f: Callable[..., Any], inputs: Sequence[Tensor], weights: Sequence[np.ndarray] | None
) -> Any:
    out = f(*inputs)
    outs = [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]
    if weights is None:
        return outs
    total = None
    for o, w in zip(outs, weights):
        term = (o * _new(backend.asarray(w, like=o.data))).sum() if o.dtype.kind in "fc" else None
        if term is not None:
            total = term if total is None else total + term
    return total


def numerical_grad(
    f: Callable[..., Any], inputs: Any, eps: float = 1e-6, grad_outputs: Sequence[np.ndarray] | None = None
) -> list[np.ndarray]:
    """d(sum of outputs · grad_outputs)/d(input) by central differences for every element of every input.

    Returns NumPy arrays (float64) whatever the inputs' device; ``grad_outputs`` may live on any device.
    """
    xs = _as_list(inputs)
    if grad_outputs is None:
        outs = _scalar_output(f, xs, None)
        grad_outputs = [backend.ones(o.shape, np.float64, like=o.data) for o in outs]
    grads = []
    for x in xs:
        g = np.zeros(x.shape, dtype=np.float64)
        for idx in np.ndindex(*x.shape):  # perturb x in place (any memory layout) and restore it
            orig = x.data[idx].copy()
            x.data[idx] = orig + eps
            plus = float(_scalar_output(f, xs, grad_outputs).data)
            x.data[idx] = orig - eps
            minus = float(_scalar_output(f, xs, grad_outputs).data)
            x.data[idx] = orig
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _host64(value: Any) -> np.ndarray:
    """A Tensor, an array on any device, a torch tensor or a number as a float64 NumPy array."""
    if isinstance(value, Tensor):
        value = value.data
    elif hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(backend.to_device(value, "cpu"), dtype=np.float64)


def _to_float64(xs: Sequence[Tensor]) -> list[Tensor]:
    out = []
    for x in xs:
        if x.dtype.kind == "f" and x.dtype != np.float64:
            raise TypeError(
                f"gradcheck needs float64 inputs for reliable numerical gradients, got {x.dtype}; "
                "use .double()"
            )
        out.append(x)
    return out


def _report(
    which: str, i: int, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> str | None:
    bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol, equal_nan=False)
    if not bad.any():
        return None
    idx = np.unravel_index(int(np.argmax(bad)), analytic.shape) if analytic.ndim else ()
    return (
        f"{which} mismatch for input {i} at element {tuple(int(k) for k in idx)}: "
        f"analytic {float(analytic[idx]):.10g} vs numerical {float(numeric[idx]):.10g} "
        f"({int(bad.sum())} of {bad.size} elements differ; atol={atol}, rtol={rtol})"
    )


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare backprop with central differences for every input element that requires grad (float64).

    Returns True, or raises ``GradcheckError`` naming the input, element and both values (False when
    ``raise_exception=False``). Several outputs (or a non-scalar one) are projected on fixed random weights.
    """
    return _check(f, inputs, eps, atol, rtol, raise_exception, "gradient")


def _check(
    f: Callable[..., Any],
    inputs: Any,
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    which: str,
) -> bool:
    xs = _to_float64(_as_list(inputs))
    diff = [x for x in xs if x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    rng = np.random.default_rng(0)
    outs = _scalar_output(f, xs, None)
    weights = [backend.asarray(rng.standard_normal(o.shape), like=o.data) for o in outs]
    total = _scalar_output(f, xs, weights)
    if total is not None and total.requires_grad:
        analytic = _grad(total, diff, allow_unused=True)
    else:  # the output does not depend on the inputs through differentiable ops: analytic gradient 0
        analytic = (None,) * len(diff)
    numeric = numerical_grad(f, xs, eps, weights)
    pos = 0
    for i, x in enumerate(xs):
        if not x.requires_grad:
            continue
        a = analytic[pos]
        a_arr = np.zeros(x.shape) if a is None else _host64(a.data)
        pos += 1
        msg = _report(which, i, a_arr, numeric[i], atol, rtol)
        if msg:
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of the (create_graph) gradient of a random projection of ``f``."""
    xs = _to_float64(_as_list(inputs))
    rng = np.random.default_rng(1)
    outs = _scalar_output(f, xs, None)
    weights = [backend.asarray(rng.standard_normal(o.shape), like=o.data) for o in outs]

    def first_grads(*args: Tensor) -> tuple[Tensor, ...]:
        total = _scalar_output(f, args, weights)
        diff = [a for a in args if a.requires_grad]
        grads = _grad(total, diff, create_graph=True, allow_unused=True)
        return tuple(
            g if g is not None else _new(backend.zeros(a.shape, a.dtype, like=a.data))
            for g, a in zip(grads, diff)
        )

    return _check(first_grads, xs, eps, atol, rtol, raise_exception, "second derivative")
