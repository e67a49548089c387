"""``chainrule.explain`` on scalar-engine graphs (``chainrule.scalar.Scalar``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import examples
from chainrule.explain.rules import has_rule
from chainrule.scalar import Scalar


def test_seed_000_y_equals_3x1_plus_5x2():
    y = examples.scalar()
    report = cr.explain(y, numerical_check=True)
    assert report.engine == "scalar"
    assert report.output == "y"
    assert float(report.grads["x1"]) == 3.0 and float(report.grads["x2"]) == 5.0
    assert float(report.values["y"]) == 13.0
    assert {s.op for s in report.steps} == {"Add", "MulScalar"}
    assert report.step("x1").rule == "dy/dx1 = dy/dh1 · 3"
    assert report.step("x1").local == 3.0
    assert report.ok is True
    assert "∂h1/∂x1 = 3" in str(report)


def test_explain_leaves_derivatives_alone_and_matches_backward():
    y = examples.scalar()
    report = cr.explain(y)
    leaves = [n for n in cr.scalar.topological_sort(y) if not n.parents]
    assert all(n.derivative is None for n in leaves)
    y.backward()
    assert {n.name: n.derivative for n in leaves} == {k: float(report.grads[k]) for k in ("x1", "x2")}


EXPRESSIONS = [
    "sigmoid(w*x+b)",
    "tanh(x)*exp(w) - log(x) / w",
    "sqrt(x) + relu(b) + relu(w) + square(b)",
    "x**3 + 2**x + w**x + 1/x - (3 - b)",
    "sin(w*x) * cos(b) + abs(b)",
    "x*x*x + x",
]
VALUES = {"w": 1.3, "x": 0.7, "b": -0.4}


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_scalar_expressions_match_torch_and_the_tensor_engine(torch, expr):
    values = {k: VALUES[k] for k in examples.parse_expression(expr)[1]}
    report = cr.explain(examples.expression(expr, values, engine="scalar"), numerical_check=True)
    tensor_report = cr.explain(examples.expression(expr, values))
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    env = {name: getattr(torch, name) for name in examples.FUNCTIONS if hasattr(torch, name)}
    out = eval(expr, {"__builtins__": {}}, {**env, **leaves})  # the test's own trusted expressions
    out.backward()
    np.testing.assert_allclose(float(report.values["f"]), out.item(), rtol=1e-12)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(float(report.grads[name]), leaf.grad.item(), rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(float(tensor_report.grads[name]), leaf.grad.item(), rtol=1e-10)
    assert report.ok is True, str(report)
    assert all(has_rule(s.op) for s in report.steps), {s.op for s in report.steps}  # every op is named


def test_recorded_scalar_ops_get_the_tensor_engine_rules():
    x = Scalar(0.3, name="x").requires_grad_()
    y = x.sigmoid()
    y.name = "y"
    step = cr.explain(y).steps[0]
    assert step.op == "Sigmoid"
    assert step.rule == "dy/dx = dy/dy · σ(x)(1−σ(x))"
    s = 1 / (1 + math.exp(-0.3))
    assert step.local == pytest.approx(s * (1 - s), rel=1e-12)


@pytest.mark.parametrize("op", [None, "atan"])
def test_custom_scalar_op_is_shown_with_its_local_derivatives(op):
    from chainrule.scalar import from_op

    x = Scalar(2.0, name="x").requires_grad_()
    kwargs = {} if op is None else {"op": op}
    y = from_op(math.atan(2.0), (x,), (1 / (1 + 4.0),), **kwargs)  # atan: not one of the engine's ops
    y.name = "y"
    report = cr.explain(y, numerical_check=True)
    step = report.steps[0]
    kind = op or "from_op"
    assert step.op == kind
    assert step.rule == f"dy/dx = backward of {kind}"
    assert step.local == pytest.approx(0.2)
    assert float(report.grads["x"]) == pytest.approx(0.2)
    assert step.numerical is None and step.ok is None  # no forward to replay: no numerical check
    assert report.ok is None


def test_scalar_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.explain(Scalar(1.0) * 2)
