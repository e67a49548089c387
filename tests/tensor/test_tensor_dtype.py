"""dtype rules: float32 stays float32 (NumPy 2 promotion must not drift it to float64), and mixed dtypes
promote as in torch. Every op with float32 inputs is also checked, output and gradients, in tests/parity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

I64 = "int64"

EXPRESSIONS: dict[str, Callable[[Any], Any]] = {
    "f32 + int": lambda m: m.ones(3) + 2,
    "int + f32": lambda m: 2 + m.ones(3),
    "f32 * float": lambda m: m.ones(3) * 2.5,
    "float - f32": lambda m: 2.5 - m.ones(3),
    "f32 / int": lambda m: m.ones(3) / 3,
    "float / f32": lambda m: 3.0 / m.ones(3),
    "f32 ** float": lambda m: m.ones(3) ** 1.5,
    "float ** f32": lambda m: 2.0 ** m.ones(3),
    "f32 * np.float64": lambda m: m.ones(3) * np.float64(2.0),
    "np.float64 - f32": lambda m: np.float64(2.0) - m.ones(3),
    "f32 * f64 0-d tensor": lambda m: m.ones(3) * m.tensor(2.0, dtype=m.float64),
    "f64 0-d tensor + f32": lambda m: m.tensor(2.0, dtype=m.float64) + m.ones(3),
    "f32 * f64 tensor": lambda m: m.ones(3) * m.ones(3, dtype=m.float64),
    "f16 + float": lambda m: m.ones(3, dtype=m.float16) + 1.5,
    "f16 * f32": lambda m: m.ones(3, dtype=m.float16) * m.ones(3),
    "int + float": lambda m: m.ones(3, dtype=m.int64) + 1.5,
    "int / int": lambda m: m.ones(3, dtype=m.int64) / m.ones(3, dtype=m.int64),
    "int / number": lambda m: m.ones(3, dtype=m.int64) / 2,
    "number / int": lambda m: 3 / m.ones(3, dtype=m.int64),
    "int * int": lambda m: m.ones(3, dtype=m.int64) * 2,
    "int ** int": lambda m: m.ones(3, dtype=m.int64) ** 2,
    "int ** float": lambda m: m.ones(3, dtype=m.int64) ** 0.5,
    "int * f32": lambda m: m.ones(3, dtype=m.int64) * m.ones(3),
    "int32 + int64 0-d": lambda m: m.ones(3, dtype=m.int32) + m.tensor(2),
    "int64 * f64 0-d": lambda m: m.ones(3, dtype=m.int64) * m.tensor(2.5, dtype=m.float64),
    "bool + int": lambda m: m.tensor([True, False]) + 1,
    "exp(int)": lambda m: m.exp(m.ones(3, dtype=m.int64)),
    "sqrt(int)": lambda m: m.sqrt(m.ones(3, dtype=m.int64)),
    "sigmoid(int)": lambda m: m.sigmoid(m.ones(3, dtype=m.int64)),
    "maximum(int, f32)": lambda m: m.maximum(m.ones(3, dtype=m.int64), m.tensor(1.5)),
    "where(cond, int, f32)": lambda m: m.where(m.ones(3) > 0, m.ones(3, dtype=m.int64), m.ones(3)),
    "int.sum": lambda m: m.ones(3, dtype=m.int32).sum(),
    "bool.sum": lambda m: m.tensor([True, False]).sum(),
    "int.amax": lambda m: m.ones(3, dtype=m.int32).amax(),
    "int.cumsum": lambda m: m.ones(3, dtype=m.int32).cumsum(0),
    "f32.mean": lambda m: m.ones(3).mean(),
    "f32.var": lambda m: m.ones(3).var(),
    "f32 comparison": lambda m: m.ones(3) < 1.5,
}


@pytest.mark.parametrize("expr", list(EXPRESSIONS.values()), ids=list(EXPRESSIONS))
def test_result_dtype_matches_torch(expr: Callable[[Any], Any], torch) -> None:  # noqa: ANN001
    ours, theirs = expr(cr), expr(torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.data.astype(np.float64), theirs.double().numpy(), rtol=1e-3)


NUMBER_OPS: dict[str, Callable[[Any], Any]] = {
    "x + 1": lambda x: x + 1,
    "1 + x": lambda x: 1 + x,
    "x - 0.5": lambda x: x - 0.5,
    "2 - x": lambda x: 2 - x,
    "x * 3": lambda x: x * 3,
    "0.5 * x": lambda x: 0.5 * x,
    "x / 4": lambda x: x / 4,
    "2 / x": lambda x: 2 / x,
    "x ** 2": lambda x: x**2,
    "x ** 0.5": lambda x: x**0.5,
    "3 ** x": lambda x: 3**x,
    "-x": lambda x: -x,
    "x * np.float64": lambda x: x * np.float64(1.5),
    "np.float64 / x": lambda x: np.float64(1.5) / x,
    "x * 0-d f64 tensor": lambda x: x * cr.tensor(1.5, dtype="float64"),
    "maximum(x, 0.5)": lambda x: cr.maximum(x, 0.5),
    "where(x > 1, x, 0.0)": lambda x: cr.where(x > 1, x, 0.0),
    "clamp(x, 0.2, 1.8)": lambda x: x.clamp(0.2, 1.8),
    "x.pow(2.5)": lambda x: x.pow(2.5),
}


@pytest.mark.parametrize("op", list(NUMBER_OPS.values()), ids=list(NUMBER_OPS))
def test_float32_with_number_operands_keeps_float32_through_value_and_grads(op: Callable[[Any], Any]) -> None:
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    y = op(x)
    assert y.dtype == np.float32
    (g,) = cr.grad(y.sum(), x, create_graph=True)
    assert g.dtype == np.float32
    if g.requires_grad:
        (gg,) = cr.grad((g * g).sum(), x, allow_unused=True)
        assert gg is None or gg.dtype == np.float32


def test_float32_training_step_stays_float32() -> None:
    """A whole step with numbers, means and a float64 seed: weights and grads remain float32."""
    w = cr.randn(3, 2, requires_grad=True)
    b = cr.zeros(2, requires_grad=True)
    x = cr.randn(4, 3)
    y = ((x @ w + b).tanh() * 0.5 - 1.0) ** 2
    loss = y.mean() / 2 + 1e-3 * (w * w).sum()
    loss.backward(np.array(1.0))
    assert loss.dtype == w.grad.dtype == b.grad.dtype == np.float32
    with cr.no_grad():
        w.sub_(w.grad * 0.1)
    assert w.dtype == np.float32


def test_float16_and_float64_are_kept() -> None:
    for dtype in (np.float16, np.float64):
        x = cr.tensor(np.array([0.5, 1.5], dtype=dtype), requires_grad=True)
        y = (x.exp() * 2 + 1).sum()
        y.backward()
        assert y.dtype == dtype and x.grad.dtype == dtype
