"""Per-op rules: each op's step has its own rule text, and every node's gradient matches PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.explain.rules import has_rule, rule

RNG = np.random.default_rng(7)
X = RNG.uniform(0.5, 1.5, (2, 3))  # positive, away from kinks: log/sqrt/pow/relu are all smooth here
W = RNG.uniform(-1, 1, (3, 2))
B = RNG.uniform(-1, 1, (3,))

# name -> (function of tensors x, w, b written with methods both libraries share, ops expected in the report)
CASES = {
    "add_mul_sub_div": (lambda x, w, b: ((x * b - x / (b + 2)) + x).sum(), {"Mul", "Sub", "Div", "Add"}),
    "pow_exp_log": (lambda x, w, b: ((x**3).exp().log() + x**0.5).sum(), {"PowScalar", "Exp", "Log"}),
    "tensor_pow": (lambda x, w, b: (x ** (b * b)).sum(), {"Pow"}),
    "tanh_sigmoid_relu": (
        lambda x, w, b: ((x - 1).tanh() + (x - 1).sigmoid() + (x - 1).relu()).sum(),
        {"Tanh", "Sigmoid", "ReLU"},
    ),
    "sqrt_abs_neg_square": (
        lambda x, w, b: (x.sqrt() + (-x + 1).abs()).sum() + (x - b).square().mean(),
        {"Sqrt", "Abs", "Neg", "Square"},
    ),
    "matmul_mean": (lambda x, w, b: (x @ w).sigmoid().mean(), {"MatMul", "Sigmoid"}),
    "reshape_transpose_sum_dim": (
        lambda x, w, b: (x.reshape(3, 2).T * w.T).sum(dim=1).sin().sum(),
        {"Reshape", "Permute", "Sum", "Sin"},
    ),
    "rdiv_rsub_cos": (lambda x, w, b: (1.0 / x + (2.0 - x).cos()).sum(), {"RDivScalar", "RSubScalar", "Cos"}),
    "max_logsumexp": (lambda x, w, b: x.amax(dim=1).sum() + x.logsumexp(dim=0).sum(), {"AMax", "LogSumExp"}),
}


def _torch_graph(torch, fn):
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in dict(x=X, w=W, b=B).items()
    }
    out = fn(**leaves)
    out.backward()
    return out, {k: v.grad.numpy() for k, v in leaves.items() if v.grad is not None}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_torch_and_numerics(torch, case):
    fn, kinds = CASES[case]
    leaves = {
        k: cr.tensor(v, dtype="float64", requires_grad=True, name=k) for k, v in dict(x=X, w=W, b=B).items()
    }
    out = fn(**leaves)
    report = cr.explain(out, numerical_check=True)
    t_out, t_grads = _torch_graph(torch, fn)
    np.testing.assert_allclose(report.values[report.output], t_out.detach().numpy(), rtol=1e-12)
    for name, g in t_grads.items():
        np.testing.assert_allclose(
            report.grads[name], g, rtol=1e-10, atol=1e-12, err_msg=f"{case}: d/d{name}"
        )
    assert report.ok is True, str(report)
    ops = {s.op for s in report.steps}
    assert kinds <= ops, f"{case}: expected ops {kinds}, got {ops}"
    for s in report.steps:
        assert s.rule.startswith(f"d{report.output}/d{s.node} = ")
        if has_rule(s.op):
            assert "backward of" not in s.rule, s.rule


@pytest.mark.parametrize(
    ("kind", "pos", "inputs", "expected"),
    [
        ("Sigmoid", 0, ["Z2"], "dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))"),
        ("MatMul", 0, ["A1", "W2"], "dL/dA1 = dL/dA2 · W2ᵀ"),
        ("MatMul", 1, ["A1", "W2"], "dL/dW2 = A1ᵀ · dL/dA2"),
        ("Add", 1, ["a", "b"], "dL/db = dL/dA2"),
        ("Sub", 1, ["a", "b"], "dL/db = −dL/dA2"),
        ("Mul", 0, ["a", "b"], "dL/da = dL/dA2 · b"),
        ("Div", 1, ["a", "b"], "dL/db = −dL/dA2 · a / b²"),
        ("Exp", 0, ["a"], "dL/da = dL/dA2 · exp(a)"),
        ("Log", 0, ["a"], "dL/da = dL/dA2 / a"),
        ("Tanh", 0, ["a"], "dL/da = dL/dA2 · (1 − tanh²(a))"),
        ("ReLU", 0, ["a"], "dL/da = dL/dA2 · 1[a > 0]"),
        ("Pow", 0, ["a", "b"], "dL/da = dL/dA2 · b·a^(b−1)"),
        ("Reshape", 0, ["a"], "dL/da = reshape(dL/dA2, (2, 3))"),
        ("Sum", 0, ["a"], "dL/da = dL/dA2 broadcast back to shape (2, 3)"),
        (
            "Mean",
            0,
            ["a"],
            "dL/da = dL/dA2 broadcast back to shape (2, 3), divided by the number of averaged elements",
        ),
        ("SomethingNew", 0, ["a"], "dL/da = backward of SomethingNew"),
    ],
)
def test_rule_texts(kind, pos, inputs, expected):
    assert rule(kind, pos, "A2", inputs, "L", shape=(2, 3)) == expected


def test_rules_with_constants():
    assert rule("MulScalar", 0, "y", ["x"], "L", {"c": 0.5}) == "dL/dx = dL/dy · 0.5"
    assert rule("PowScalar", 0, "y", ["x"], "L", {"c": 2}) == "dL/dx = dL/dy · 2·x"
    assert rule("PowScalar", 0, "y", ["x"], "L", {"c": 3}) == "dL/dx = dL/dy · 3·x^2"
    assert rule("PowScalar", 0, "y", ["x"], "L", {"c": -1}) == "dL/dx = dL/dy · -1·x^(-2)"
    assert rule("Clamp", 0, "y", ["x"], "L", {"lo": 0}) == "dL/dx = dL/dy · 1[0 ≤ x ≤ ∞]"


@given(
    shape=st.sampled_from([(3,), (2, 3), (1, 3), (2, 1)]),
    other=st.sampled_from([(3,), (1, 3), (2, 3), ()]),
    op=st.sampled_from(["add", "mul", "sub", "div"]),
)
def test_broadcasting_binary_ops_match_torch(torch, shape, other, op):
    try:
        np.broadcast_shapes(shape, other)
    except ValueError:
        return
    rng = np.random.default_rng(0)
    a_np, b_np = rng.uniform(0.5, 2, shape), rng.uniform(0.5, 2, other)
    a = cr.tensor(a_np, dtype="float64", requires_grad=True, name="a")
    b = cr.tensor(b_np, dtype="float64", requires_grad=True, name="b")
    report = cr.explain(getattr(cr, op)(a, b).tanh().sum(), numerical_check=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)
    getattr(torch, op)(ta, tb).tanh().sum().backward()
    np.testing.assert_allclose(report.grads["a"], ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(report.grads["b"], tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert report.ok is True
