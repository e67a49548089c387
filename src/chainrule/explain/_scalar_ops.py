"""The op behind a scalar-engine node, as ``explain`` names and replays it.

Every operation of the scalar engine records what it did on the Scalar it creates
(:attr:`chainrule.scalar.Scalar.op`: a kind such as ``"mul"`` and, where a number or a constant
Scalar took part, that constant). ``describe`` turns that record into the tensor engine's op names
(``Mul``, ``MulScalar c=3``, ``Sigmoid``, ``AddN``…) and a forward that re-runs the op through the
scalar engine itself, for the numerical check. A kind it does not know (a :func:`~chainrule.scalar.from_op`
with the caller's own name) is shown under that name, with its stored local derivatives and no replay.

>>> from chainrule.scalar import Scalar
>>> x = Scalar(0.3).requires_grad_()
>>> describe(x.sigmoid()).kind, describe(3 * x).kind, describe(3 * x).consts
('Sigmoid', 'MulScalar', {'c': 3.0})
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.scalar import Scalar, add_n, losses

Forward = Callable[..., float]


@dataclass
class ScalarOp:
    """A recorded op: its kind (the tensor engine's class name), constants, and a forward to replay it."""

    kind: str
    consts: dict[str, float] = field(default_factory=dict)
    forward: Forward | None = None


# Two-operand ops: kind -> (name with both operands parents, name with a constant, the operator).
_BINARY: dict[str, tuple[str, str, Callable[[Any, Any], Scalar]]] = {
    "add": ("Add", "AddScalar", operator.add),
    "sub": ("Sub", "SubScalar", operator.sub),
    "mul": ("Mul", "MulScalar", operator.mul),
    "div": ("Div", "DivScalar", operator.truediv),
    "pow": ("Pow", "PowScalar", operator.pow),
}
# ``c op x``: only ever recorded with the constant ``c``.
_REFLECTED: dict[str, tuple[str, Callable[[Any, Any], Scalar]]] = {
    "rsub": ("RSubScalar", operator.sub),
    "rdiv": ("RDivScalar", operator.truediv),
    "rpow": ("RPowScalar", operator.pow),
}
_UNARY: dict[str, tuple[str, Callable[[Scalar], Scalar]]] = {
    "neg": ("Neg", operator.neg),
    "pos": ("Pos", operator.pos),
    "exp": ("Exp", Scalar.exp),
    "log": ("Log", Scalar.log),
    "sqrt": ("Sqrt", Scalar.sqrt),
    "tanh": ("Tanh", Scalar.tanh),
    "sigmoid": ("Sigmoid", Scalar.sigmoid),
    "relu": ("ReLU", Scalar.relu),
    "sin": ("Sin", Scalar.sin),
    "cos": ("Cos", Scalar.cos),
    "abs": ("Abs", Scalar.abs),
}
# Losses (one prediction and one target; the target is the constant when it is not a parent).
_LOSSES: dict[str, tuple[str, Callable[[Scalar, Any], Scalar]]] = {
    "mse": ("MSELoss", losses.mse),
    "binary_cross_entropy": ("BCELoss", losses.binary_cross_entropy),
    "binary_cross_entropy_with_logits": ("BCEWithLogitsLoss", losses.binary_cross_entropy_with_logits),
}


def describe(node: Scalar) -> ScalarOp:
    """The op that produced ``node`` (a Scalar with parents), from the op it recorded."""
    recorded = node.op
    if recorded is None:
        raise ValueError(f"Scalar {node.name!r} is a leaf: no op produced it")
    kind, c = recorded
    n = len(node.parents)
    if kind in _BINARY:
        both, with_const, fn = _BINARY[kind]
        if c is None and n == 2:
            return ScalarOp(both, forward=lambda a, b: fn(Scalar(a), Scalar(b)).data)
        if c is not None and n == 1:
            return ScalarOp(with_const, {"c": c}, lambda x: fn(Scalar(x), c).data)
    elif kind in _REFLECTED:
        name, fn = _REFLECTED[kind]
        if c is not None and n == 1:
            return ScalarOp(name, {"c": c}, lambda x: fn(c, Scalar(x)).data)
    elif kind in _UNARY:
        name, unary = _UNARY[kind]
        if c is None and n == 1:
            return ScalarOp(name, forward=lambda x: unary(Scalar(x)).data)
    elif kind == "add_n":
        if c is None:
            return ScalarOp("AddN", forward=lambda *xs: add_n([Scalar(x) for x in xs]).data)
        return ScalarOp("AddN", {"c": c}, lambda *xs: add_n([*(Scalar(x) for x in xs), c]).data)
    elif kind == "mean" and c is not None:
        forward = (lambda *xs: losses.mean([Scalar(x) for x in xs]).data) if n == c else None
        return ScalarOp("Mean", {"n": int(c)}, forward)  # constant terms (not parents) leave no replay
    elif kind in _LOSSES:
        name, loss = _LOSSES[kind]
        if c is None and n == 2:
            return ScalarOp(name, forward=lambda p, t: loss(Scalar(p), Scalar(t)).data)
        if c is not None and n == 1:
            return ScalarOp(name, {"target": c}, lambda p: loss(Scalar(p), c).data)
    # A from_op with the caller's own name, or one whose operands were partly dropped (no constant
    # recorded for them): named as recorded, shown with its local derivatives, not replayed.
    return ScalarOp(kind, {} if c is None else {"c": c})
