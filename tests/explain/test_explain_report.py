"""``chainrule.explain`` on tensor graphs: structure, names, text/Markdown, safety (no .grad changes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function


def _f64(data, requires_grad=True, name=None):
    return cr.tensor(data, dtype="float64", requires_grad=requires_grad, name=name)


def test_callable_both_as_lazy_attribute_and_after_submodule_import():
    import chainrule.explain as module

    x = _f64(1.5, name="x")
    assert cr.explain(x * 2).grads["x"] == 2.0
    assert module.explain(x * 2).grads["x"] == 2.0
    from chainrule import explain

    assert explain(x * 3).grads["x"] == 3.0


def test_graph_is_not_consumed_and_no_grad_changes(torch):
    x = _f64([0.5, -1.0, 2.0], name="x")
    w = _f64([[1.0, 2.0, 0.5]], name="w")
    h = (w * x).tanh()
    h.retain_grad()
    L = (h * x).sum()
    x.grad = np.array([10.0, 10.0, 10.0])
    before = x.grad.data.copy()
    report = cr.explain(L, numerical_check=True)
    assert w.grad is None and h.grad is None
    np.testing.assert_array_equal(x.grad.data, before)
    # the graph is intact: backward still works and agrees with the report and with torch
    x.grad = None
    L.backward()
    np.testing.assert_allclose(report.grads["x"], x.grad.data, rtol=1e-12)
    np.testing.assert_allclose(report.grads["w"], w.grad.data, rtol=1e-12)
    tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tw = torch.tensor([[1.0, 2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    ((tw * tx).tanh() * tx).sum().backward()
    np.testing.assert_allclose(report.grads["x"], tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(report.grads["w"], tw.grad.numpy(), rtol=1e-12)
    assert report.ok is True


def test_freed_graph_is_a_clear_error():
    x = _f64(2.0)
    y = cr.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        cr.explain(y)


def test_output_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.explain(cr.tensor([1.0, 2.0]).sum())
    with pytest.raises(TypeError, match="Tensor or Scalar"):
        cr.explain(np.ones(3))


def test_default_names_and_overrides():
    a = _f64(1.0)
    c = _f64(3.0, requires_grad=False)
    b = _f64(2.0)
    h = a * b
    y = h + c
    report = cr.explain(y)
    assert [r.name for r in report.forward] == ["x0", "x1", "h1", "c0", "L"]
    assert [r.op for r in report.forward] == ["leaf", "leaf", "Mul", "const", "Add"]
    assert report.forward[2].inputs == ["x0", "x1"]
    # a {tensor: name} mapping and a locals()-style {name: tensor} mapping
    assert [r.name for r in cr.explain(y, names={h: "prod", a: "a"}).forward] == [
        "a",
        "x0",
        "prod",
        "c0",
        "L",
    ]
    names = [r.name for r in cr.explain(y, names=locals()).forward]
    assert names == ["a", "b", "h", "c", "y"]
    assert cr.explain(y, names=[("first", a)]).forward[0].name == "first"  # (name, tensor) pairs
    # .name on the tensors is used; duplicates are made unique
    a.name, b.name = "p", "p"
    assert [r.name for r in cr.explain(y).forward][:2] == ["p", "p_2"]


def test_same_tensor_used_twice_adds_contributions(torch):
    x = _f64([1.0, -2.0, 3.0], name="x")
    y = (x * x).sum() + x.mean()
    report = cr.explain(y, numerical_check=True)
    steps = report.steps_for("x")
    assert len(steps) == 3
    assert [s.complete for s in steps] == [False, False, True]
    np.testing.assert_allclose(sum(s.grad for s in steps), steps[-1].total)
    tx = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    ((tx * tx).sum() + tx.mean()).backward()
    np.testing.assert_allclose(report.grads["x"], tx.grad.numpy(), rtol=1e-12)
    assert steps[-1].ok is True
    assert "+=" in str(report) and "total" in str(report)


def test_broadcast_gradient_is_summed_back_and_said_so(torch):
    x = _f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], name="x")
    b = _f64([0.1, 0.2, 0.3], name="b")
    L = ((x + b) ** 2).sum()
    report = cr.explain(L, numerical_check=True)
    step = report.step("b")
    assert "summed from (2, 3) back to (3,)" in step.rule
    tx = torch.tensor(x.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    ((tx + tb) ** 2).sum().backward()
    np.testing.assert_allclose(report.grads["b"], tb.grad.numpy(), rtol=1e-12)
    assert report.ok is True


def test_non_scalar_output_seeds_with_ones_or_gradient(torch):
    x = _f64([0.5, 1.5], name="x")
    y = x.exp()
    np.testing.assert_allclose(cr.explain(y).grads["x"], np.exp([0.5, 1.5]), rtol=1e-12)
    g = np.array([2.0, -1.0])
    report = cr.explain(y, gradient=g, numerical_check=True)
    tx = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    tx.exp().backward(torch.tensor(g))
    np.testing.assert_allclose(report.grads["x"], tx.grad.numpy(), rtol=1e-12)
    assert report.ok is True
    assert "seed" in str(report)
    with pytest.raises(ValueError, match="shape"):
        cr.explain(y, gradient=np.ones(3))


def test_multi_output_op_with_an_unused_piece(torch):
    x = _f64([1.0, 2.0, 3.0, 4.0], name="x")
    a, b = cr.split(x, 2)
    L = (a * a).sum()
    report = cr.explain(L, numerical_check=True)
    tx = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, requires_grad=True)
    ta, _ = torch.split(tx, 2)
    (ta * ta).sum().backward()
    np.testing.assert_allclose(report.grads["x"], tx.grad.numpy(), rtol=1e-12)
    assert report.ok is True
    assert b.grad is None


def test_large_tensors_are_summarised():
    x = cr.tensor(np.linspace(-1, 1, 400).reshape(20, 20), dtype="float64", requires_grad=True, name="x")
    report = cr.explain((x.tanh() ** 2).sum(), max_elements=8)
    text = str(report)
    assert "shape (20, 20), norm" in text
    assert text.count("\n") < 60
    assert len(max(text.splitlines(), key=len)) < 200
    assert "shape (20, 20), norm" in report.to_markdown()
    assert report.grads["x"].shape == (20, 20)  # the data stays complete


def test_float32_graph_keeps_float32_and_checks_with_float32_tolerance():
    x = cr.tensor([[0.2, -0.4], [1.1, 0.3]], requires_grad=True, name="x")
    w = cr.tensor([[0.5], [-1.5]], requires_grad=True, name="w")
    L = cr.sigmoid(x @ w).sum()
    report = cr.explain(L, numerical_check=True)
    assert report.grads["x"].dtype == np.float32
    assert report.ok is True


class _WrongSquare(Function):
    """x² with a wrong backward (3x instead of 2x)."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * 3


def test_numerical_check_flags_a_wrong_backward():
    x = _f64([0.5, -1.0], name="x")
    h = _WrongSquare()(x)
    h.name = "h"
    L = (h.exp()).sum()
    report = cr.explain(L, numerical_check=True)
    assert report.ok is False
    assert report.step("h").ok is True  # upstream of the bug, everything is right
    bad = report.step("x")
    assert bad.ok is False and bad.op == "_WrongSquare"
    assert bad.rule == "dL/dx = backward of _WrongSquare"
    np.testing.assert_allclose(bad.numerical, 2 * x.data * np.exp(x.data**2), rtol=1e-6)
    np.testing.assert_allclose(bad.total, 3 * x.data * np.exp(x.data**2), rtol=1e-12)
    assert "✗" in str(report) and "✗" in report.to_markdown()


def test_text_markdown_and_dict_formats():
    x = _f64(0.5, name="x")
    y = cr.square(cr.exp(cr.square(x)))
    y.name = "y"
    report = cr.explain(y, numerical_check=True)
    text = str(report)
    assert text.splitlines()[0].startswith("Backpropagation through y")
    for heading in ("Forward pass", "Backward pass", "Gradients"):
        assert heading in text
    md = report.to_markdown()
    assert md.startswith("# Backpropagation through `y`")
    assert "| node | op | shape | value |" in md
    assert "| # | gradient | op | rule | upstream | result | numerical |" in md
    table_rows = [line for line in md.splitlines() if line.startswith("| ") and "dy/d" in line]
    assert len(table_rows) >= len(report.steps)
    data = json.loads(json.dumps(report.to_dict()))
    assert [s["node"] for s in data["steps"]] == [s.node for s in report.steps]
    assert data["ok"] is True
    assert repr(report).startswith("<Report of y")


def test_nn_functional_graph_matches_torch(torch):
    F = pytest.importorskip("chainrule.nn.functional")
    rng = np.random.default_rng(5)
    data = {
        "x": rng.standard_normal((5, 4)),
        "w1": rng.standard_normal((6, 4)) * 0.5,
        "b1": rng.standard_normal(6) * 0.1,
        "w2": rng.standard_normal((3, 6)) * 0.5,
        "b2": rng.standard_normal(3) * 0.1,
    }
    target = np.array([0, 2, 1, 1, 0])
    p = {k: cr.tensor(v, dtype="float64", requires_grad=k != "x", name=k) for k, v in data.items()}
    logits = F.linear(F.relu(F.linear(p["x"], p["w1"], p["b1"])), p["w2"], p["b2"])
    report = cr.explain(F.cross_entropy(logits, cr.tensor(target)), numerical_check=True)
    t = {k: torch.tensor(v, requires_grad=k != "x") for k, v in data.items()}
    TF = torch.nn.functional
    t_logits = TF.linear(TF.relu(TF.linear(t["x"], t["w1"], t["b1"])), t["w2"], t["b2"])
    TF.cross_entropy(t_logits, torch.tensor(target)).backward()
    for k in ("w1", "b1", "w2", "b2"):
        np.testing.assert_allclose(report.grads[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
    assert report.ok is True
    assert report.step("w2").rule.endswith("ᵀ · h2")  # Linear: dL/dW = dL/dyᵀ · x
