"""Small example graphs used by ``chainrule explain``/``graph``, the docs and the tests.

Each function builds a fresh graph and returns its output (with names on the interesting nodes):

* ``two_layer()``: the 2-2-1 sigmoid network worked by hand in ``docs/two_layer_by_hand.md``,
  loss ½(y − t)², float64.
* ``scalar()``: y = 3·x1 + 5·x2 at x1 = 1, x2 = 2 on the scalar engine.
* ``chain()``: y = (exp(x²))² at x = 0.5 on the tensor engine, float64.
* ``expression("sigmoid(w*x+b)", {"w": 2, "x": 0.5, "b": -1})``: a formula, parsed safely (output ``f``;
  see :mod:`chainrule._expression` for what a formula may contain).

>>> import chainrule as cr
>>> y = chain()
>>> y.backward()
>>> round(float(cr.explain(chain()).grads["x"]), 6)
3.297443
"""

from __future__ import annotations

from typing import Any

from chainrule._expression import FUNCTIONS as _FUNCTIONS
from chainrule._expression import expression, parse_expression, parse_value

__all__ = ["FUNCTIONS", "chain", "expression", "parse_expression", "parse_value", "scalar", "two_layer"]

#: The functions an expression may call (``max``/``min`` take one argument, a reduction, or two).
FUNCTIONS = tuple(_FUNCTIONS)


def two_layer() -> Any:
    """The 2-2-1 network of the hand derivation: A0 = [[0.35, 0.9]], sigmoid layers, target t = 0.5.

    Nodes: A0 (input), W1, W2 (weights, require grad), Z1 = A0·W1, A1 = σ(Z1), Z2 = A1·W2, A2 = σ(Z2),
    t, E = A2 − t, and the loss L = ½·Σ E².
    """
    import chainrule as cr

    f64 = "float64"
    A0 = cr.tensor([[0.35, 0.9]], dtype=f64, name="A0")
    W1 = cr.tensor([[0.1, 0.4], [0.8, 0.6]], dtype=f64, requires_grad=True, name="W1")
    W2 = cr.tensor([[0.3], [0.9]], dtype=f64, requires_grad=True, name="W2")
    t = cr.tensor([[0.5]], dtype=f64, name="t")
    Z1 = _named(A0 @ W1, "Z1")
    A1 = _named(cr.sigmoid(Z1), "A1")
    Z2 = _named(A1 @ W2, "Z2")
    A2 = _named(cr.sigmoid(Z2), "A2")
    E = _named(A2 - t, "E")
    return _named((E**2).sum() * 0.5, "L")


def scalar() -> Any:
    """y = 3·x1 + 5·x2 at x1 = 1, x2 = 2 on the scalar engine (dy/dx1 = 3, dy/dx2 = 5)."""
    from chainrule.scalar import Scalar

    x1 = Scalar(1.0, name="x1").requires_grad_()
    x2 = Scalar(2.0, name="x2").requires_grad_()
    y = Scalar(3.0, name="x1_coef") * x1 + Scalar(5.0, name="x2_coef") * x2
    y.name = "y"
    return y


def chain() -> Any:
    """y = (exp(x²))² at x = 0.5, float64: a = x², b = exp(a), y = b² (dy/dx = 4x·e^(2x²) ≈ 3.2974)."""
    import chainrule as cr

    x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
    a = _named(cr.square(x), "a")
    b = _named(cr.exp(a), "b")
    return _named(cr.square(b), "y")


def _named(t: Any, name: str) -> Any:
    t.name = name
    return t
