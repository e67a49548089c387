"""Recognise the operation behind a scalar-engine node.

The scalar engine stores, per node, only its value, its parents and the local derivatives (no op name).
For a readable report we recognise the op by checking candidate formulas against the stored value and
local derivatives; an op is named only when both match exactly (to 1e-12 relative), else it stays
``"ScalarOp"`` and the report shows the local derivatives as numbers. A node that carries an ``op``
or ``_op`` attribute (a future engine) is trusted instead.

>>> from chainrule.scalar import Scalar
>>> x = Scalar(0.3).requires_grad_()
>>> infer(x.sigmoid()).kind, infer(3 * x).kind, infer(3 * x).consts
('Sigmoid', 'MulScalar', {'c': 3.0})
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScalarOp:
    """An inferred op: its kind (the tensor engine's class name), constants, and a forward to replay it."""

    kind: str
    consts: dict[str, float] = field(default_factory=dict)
    forward: Callable[..., float] | None = None


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _safe(fn: Callable[..., float]) -> Callable[..., float]:
    def wrapped(*xs: float) -> float:
        try:
            return fn(*xs)
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan

    return wrapped


# kind, forward, derivative: tried in this order on single-parent nodes.
_UNARY: list[tuple[str, Callable[[float], float], Callable[[float, float], float]]] = [
    ("Exp", math.exp, lambda a, y: y),
    ("Sigmoid", _sigmoid, lambda a, y: y * (1.0 - y)),
    ("Tanh", math.tanh, lambda a, y: 1.0 - y * y),
    ("Log", math.log, lambda a, y: 1.0 / a),
    ("Sqrt", math.sqrt, lambda a, y: 0.5 / y),
    ("Sin", math.sin, lambda a, y: math.cos(a)),
    ("Cos", math.cos, lambda a, y: -math.sin(a)),
    ("Square", lambda a: a * a, lambda a, y: 2.0 * a),
    ("ReLU", lambda a: a if a > 0 else 0.0, lambda a, y: 1.0 if a > 0 else 0.0),
    ("Abs", abs, lambda a, y: 1.0 if a > 0 else (-1.0 if a < 0 else 0.0)),
    ("Neg", lambda a: -a, lambda a, y: -1.0),
]


def _given(node: Any) -> ScalarOp | None:
    op = getattr(node, "op", None) or getattr(node, "_op", None)
    if isinstance(op, str) and op:
        return ScalarOp(op)
    return None


def infer(node: Any) -> ScalarOp:
    """The op that produced ``node`` (a Scalar with parents), recognised from its value and local grads."""
    given = _given(node)
    if given is not None:
        return given
    parents = tuple(getattr(node, "parents", getattr(node, "_parents", ())))
    local = tuple(float(g) for g in getattr(node, "local_grads", getattr(node, "_local_grads", ())))
    y = float(node.data)
    if len(parents) == 1 and len(local) == 1:
        return _infer_unary(float(parents[0].data), y, local[0])
    if len(parents) == 2 and len(local) == 2:
        return _infer_binary(float(parents[0].data), float(parents[1].data), y, local)
    return ScalarOp("ScalarOp")


def _infer_unary(a: float, y: float, g: float) -> ScalarOp:
    for kind, fwd, deriv in _UNARY:
        out = _safe(fwd)(a)
        if _close(out, y) and _close(_safe(deriv)(a, out), g):
            return ScalarOp(kind, forward=fwd)
    # y = g·a + c: a scale, a shift, or both (a constant operand is not recorded by the engine).
    c = y - g * a
    if _close(g * a + c, y) and math.isfinite(c):
        if _close(c, 0.0) or abs(c) <= 1e-12 * max(1.0, abs(y)):
            return ScalarOp("MulScalar", {"c": g}, lambda x, g=g: g * x)
        if g == 1.0:
            return ScalarOp("AddScalar", {"c": c}, lambda x, c=c: x + c)
        if g == -1.0:
            return ScalarOp("RSubScalar", {"c": c}, lambda x, c=c: c - x)
    # y = c / x: dy/dx = -y / x
    if a != 0 and _close(-y / a, g):
        c = y * a
        return ScalarOp("RDivScalar", {"c": c}, lambda x, c=c: c / x)
    # y = x ** c: dy/dx = c·x^(c-1) = c·y/x
    if a > 0 and y > 0:
        c = math.log(y) / math.log(a) if a != 1.0 else math.nan
        if math.isfinite(c) and _close(c * y / a, g):
            return ScalarOp("PowScalar", {"c": c}, lambda x, c=c: x**c)
    # y = c ** x: dy/dx = y·ln c
    if y > 0:
        c = math.exp(g / y)
        if _close(_safe(lambda: c**a)(), y):
            return ScalarOp("RPowScalar", {"c": c}, lambda x, c=c: c**x)
    return ScalarOp("ScalarOp")


def _infer_binary(a: float, b: float, y: float, local: tuple[float, ...]) -> ScalarOp:
    ga, gb = local
    if ga == 1.0 and gb == 1.0 and _close(a + b, y):
        return ScalarOp("Add", forward=lambda u, v: u + v)
    if ga == 1.0 and gb == -1.0 and _close(a - b, y):
        return ScalarOp("Sub", forward=lambda u, v: u - v)
    if _close(ga, b) and _close(gb, a) and _close(a * b, y):
        return ScalarOp("Mul", forward=lambda u, v: u * v)
    if b != 0 and _close(a / b, y) and _close(1.0 / b, ga):
        return ScalarOp("Div", forward=lambda u, v: u / v)
    p = _safe(lambda: a**b)()
    if isinstance(p, float) and _close(p, y):
        return ScalarOp("Pow", forward=lambda u, v: u**v)
    return ScalarOp("ScalarOp")
