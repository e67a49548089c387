"""``chainrule.examples``: the canonical graphs and the safe expression parser."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import examples


def test_chain_matches_torch_and_the_closed_form(torch):
    y = examples.chain()
    report = cr.explain(y, numerical_check=True)
    tx = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    ty = torch.square(torch.exp(torch.square(tx)))
    ty.backward()
    assert float(report.values["y"]) == pytest.approx(ty.item(), rel=1e-14)
    assert float(report.grads["x"]) == pytest.approx(tx.grad.item(), rel=1e-14)
    assert float(report.grads["x"]) == pytest.approx(4 * 0.5 * math.exp(2 * 0.25), rel=1e-14)  # 4x·e^(2x²)
    assert [s.node for s in report.steps] == ["b", "a", "x"]
    assert [s.op for s in report.steps] == ["Square", "Exp", "Square"]
    assert report.ok is True


def test_two_layer_is_the_seed_network():
    L = examples.two_layer()
    report = cr.explain(L)
    assert {"A0", "W1", "W2", "t", "Z1", "A1", "Z2", "A2", "E", "L"} <= set(report.values)
    np.testing.assert_array_equal(report.values["W1"], [[0.1, 0.4], [0.8, 0.6]])
    assert report.values["L"].dtype == np.float64
    assert examples.two_layer() is not L  # a fresh graph every call


def test_expression_builds_named_float64_leaves(torch):
    y = examples.expression("sigmoid(w*x+b)", {"w": 2, "x": "0.5", "b": -1.0})
    report = cr.explain(y, numerical_check=True)
    assert report.output == "f"
    assert [r.name for r in report.forward if r.op == "leaf"] == ["w", "x", "b"]
    tw, tx, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, 0.5, -1.0))
    torch.sigmoid(tw * tx + tb).backward()
    for name, t in zip("wxb", (tw, tx, tb)):
        assert float(report.grads[name]) == pytest.approx(t.grad.item(), rel=1e-14)
    assert report.ok is True


def test_expression_constants_unary_minus_and_precedence(torch):
    y = examples.expression("-x**2 + 3*x/2 - +x + 2**3", {"x": 1.5})
    tx = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    ty = -(tx**2) + 3 * tx / 2 - tx + 2**3
    ty.backward()
    assert float(y.data) == pytest.approx(ty.item(), rel=1e-14)
    assert float(cr.explain(y).grads["x"]) == pytest.approx(tx.grad.item(), rel=1e-14)


def test_expression_vector_values():
    y = examples.expression("square(x)", {"x": [1.0, 2.0]})
    np.testing.assert_allclose(cr.explain(y).grads["x"], [2.0, 4.0])


def test_bare_variable_gets_its_own_output_node():
    y = examples.expression("x", {"x": 2.0})
    assert y.name == "f" and float(cr.explain(y).grads["x"]) == 1.0


def test_unknown_names_are_named_in_the_error():
    with pytest.raises(ValueError, match=r"unknown names 'x', 'b'.*--set x=\.\.\. --set b=\.\.\."):
        examples.expression("sigmoid(w*x+b)", {"w": 1.0})
    with pytest.raises(ValueError, match="unknown name 'z'"):
        examples.expression("z", {})
    with pytest.raises(ValueError, match=r"has no variable 'z' \(its variables: x\)"):
        examples.expression("x * 2", {"x": 1.0, "z": 3.0})


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("__import__('os').system('echo hacked')", "unknown function"),
        ("__import__('os')", "unknown function '__import__'"),
        ("x.__class__", "Attribute"),
        ("lambda: x", "Lambda"),
        ("(lambda: 1)()", "unknown function"),
        ("[x, x]", "List"),
        ("x if x else x", "IfExp"),
        ("'a' * x", "constant 'a'"),
        ("exp(x, x)", "exactly one argument"),
        ("exp(x=x)", "exactly one argument"),
        ("exp", "is a function"),
        ("open(x)", "unknown function 'open'"),
        ("x @ y", "at least 1 dimension"),
        ("x == 1", "Compare"),
        ("x +", "cannot parse"),
        ("True * x", "not a real number"),
        ("x; y", "cannot parse"),
    ],
)
def test_unsafe_or_unsupported_expressions_are_rejected(expr, message):
    with pytest.raises(ValueError, match=message):
        examples.expression(expr, {"x": 1.0, "y": 2.0})


def test_huge_or_constant_expressions_are_rejected_without_hanging():
    with pytest.raises(ValueError, match="cannot be evaluated"):
        examples.expression("9**9**9**9 * x", {"x": 1.0})
    with pytest.raises(ValueError, match="no variables"):
        examples.expression("1 + 2", {})
    with pytest.raises(ValueError, match="too long"):
        examples.expression("x+" * 2000 + "x", {"x": 1.0})
    with pytest.raises(ValueError, match="must be a number"):
        examples.expression("x", {"x": "abc"})


def test_parse_expression_lists_variables_in_order():
    _, names = examples.parse_expression("sigmoid(w*x + b) * w")
    assert names == ["w", "x", "b"]
