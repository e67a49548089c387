"""``explain`` names scalar-engine ops from the op each Scalar records (``Scalar.op``), not its numbers."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain._scalar_ops import describe
from chainrule.explain.rules import has_rule
from chainrule.scalar import Scalar, add_n, from_op, losses
from chainrule.scalar.nn import ActivationType, Linear, MLPBinaryClassifyNetFactory, MLPConfig

ACTIVATIONS = {ActivationType.RELU: "ReLU", ActivationType.TANH: "Tanh", ActivationType.SIGMOID: "Sigmoid"}


def _leaf(value: float, name: str = "x") -> Scalar:
    return Scalar(value, name=name).requires_grad_()


def _row(report: cr.explain.Report, name: str) -> cr.explain.ForwardRow:
    return next(r for r in report.forward if r.name == name)


# ---------------------------------------------------------------------------- a whole scalar MLP
def _torch_layer(torch, layer: Linear) -> tuple:
    params = dict(layer.named_parameters())
    w = [[params[f"weight_{i}_{j}"].data for j in range(layer.out_size)] for i in range(layer.in_size)]
    b = [params[f"bias_{j}"].data for j in range(layer.out_size)]
    return (
        torch.tensor(w, dtype=torch.float64, requires_grad=True),
        torch.tensor(b, dtype=torch.float64, requires_grad=True),
    )


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_mlp_report_names_every_op_and_matches_torch(torch, activation):
    net = MLPBinaryClassifyNetFactory(MLPConfig(2, 1, 3, 2, activation, seed=1))
    point = [0.4, -0.7]
    loss = losses.binary_cross_entropy(net(point), 1.0)
    params = dict(net.named_parameters())
    report = cr.explain(loss, numerical_check=True, names=params)

    interior = [r for r in report.forward if r.inputs]
    kinds = {r.op for r in interior}
    # Float inputs make MulScalar nodes in the first layer; Scalar activations make Mul nodes after it.
    assert kinds == {"MulScalar", "Mul", "AddN", ACTIVATIONS[activation], "Sigmoid", "BCELoss"}
    assert all(has_rule(s.op) for s in report.steps)
    assert _row(report, report.output).consts == {"target": 1.0}

    # One AddN per unit (3 + 3 + 1), each over its products and its bias, each term with local derivative 1.
    add_rows = [r for r in interior if r.op == "AddN"]
    assert sorted(len(r.inputs) for r in add_rows) == [3, 3, 3, 4, 4, 4, 4]
    assert all(sum(".bias_" in name for name in r.inputs) == 1 for r in add_rows)
    add_steps = [s for s in report.steps if s.op == "AddN"]
    assert len(add_steps) == sum(len(r.inputs) for r in add_rows)
    for s in add_steps:
        assert s.local == 1.0
        assert s.rule == f"d{report.output}/d{s.node} = d{report.output}/d{s.output}"
        np.testing.assert_array_equal(s.grad, s.upstream)
    text, md = str(report), report.to_markdown()
    bias = "layer_hidden_output.bias_0"
    out = next(r.name for r in add_rows if bias in r.inputs)
    assert f"via AddN (output {out})" in text
    assert f"∂{out}/∂{bias} = 1" in text
    assert f"| AddN → `{out}` |" in md and f"| ∂{out}/∂{bias} = 1 |" in md
    assert "| # | gradient | op | rule | local | upstream | result | numerical |" in md
    assert report.ok is True

    # The same network and loss in PyTorch (float64): every parameter's gradient.
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation.value]
    layers = [net.layer_input_hidden_0, net.layer_hidden_0_1, net.layer_hidden_output]
    tparams = [_torch_layer(torch, layer) for layer in layers]
    h = torch.tensor(point, dtype=torch.float64)
    for k, (w, b) in enumerate(tparams):
        h = h @ w + b
        h = act(h) if k < 2 else torch.sigmoid(h)
    torch.nn.functional.binary_cross_entropy(h, torch.ones_like(h)).backward()
    prefixes = ["layer_input_hidden_0", "layer_hidden_0_1", "layer_hidden_output"]
    for prefix, layer, (w, b) in zip(prefixes, layers, tparams):
        for i in range(layer.in_size):
            for j in range(layer.out_size):
                got = float(report.grads[f"{prefix}.weight_{i}_{j}"])
                assert got == pytest.approx(w.grad[i, j].item(), rel=1e-10, abs=1e-14)
        for j in range(layer.out_size):
            assert float(report.grads[f"{prefix}.bias_{j}"]) == pytest.approx(b.grad[j].item(), rel=1e-10)


def test_add_n_with_repeated_terms_and_constants():
    a, b = _leaf(0.7, "a"), _leaf(-1.2, "b")
    s = add_n([a, b, a, 0.5, Scalar(2.0)])
    s.name = "s"
    y = (s * b).tanh()
    y.name = "y"
    report = cr.explain(y, numerical_check=True)
    row = _row(report, "s")
    assert (row.op, row.inputs, row.consts) == ("AddN", ["a", "b", "a"], {"c": 2.5})
    assert row.expression == "AddN(a, b, a, c=2.5)"
    steps = [st for st in report.steps if st.op == "AddN"]
    assert [st.node for st in steps] == ["a", "b", "a"]
    assert all(st.local == 1.0 for st in steps)
    upstream = float(report.grads["s"])
    assert upstream == pytest.approx((1 - math.tanh(s.data * b.data) ** 2) * b.data, rel=1e-12)
    assert float(report.grads["a"]) == pytest.approx(2 * upstream, rel=1e-12)  # a is two terms of s
    assert report.ok is True


# ---------------------------------------------------------------------------- what inference misread
def _add_n(terms: list) -> object:
    return add_n(terms) if isinstance(terms[0], Scalar) else sum(terms)


# (label, op, x, kind, consts, smooth): the kind the op records. Each case was misnamed by the old
# value-based inference, or is a value where several ops share value and derivative. ``op`` also runs
# on torch tensors, the reference for the value and the gradients.
AMBIGUOUS: list[tuple[str, Callable[[Scalar], Scalar], float, str, dict, bool]] = [
    ("x * 1.0", lambda x: x * 1.0, 2.0, "MulScalar", {"c": 1.0}, True),  # was ReLU
    ("x + 0", lambda x: x + 0, 2.0, "AddScalar", {"c": 0.0}, True),  # was ReLU
    ("x ** 1", lambda x: x**1, 2.0, "PowScalar", {"c": 1.0}, True),  # was ReLU
    ("x - 0", lambda x: x - 0, 2.0, "SubScalar", {"c": 0.0}, True),  # was ReLU
    ("x / 1", lambda x: x / 1, 2.0, "DivScalar", {"c": 1.0}, True),  # was ReLU
    ("+x", lambda x: +x, 2.0, "Pos", {}, True),  # was ReLU
    ("abs(x), x > 0", lambda x: abs(x), 2.0, "Abs", {}, True),  # was ReLU
    ("x * -1", lambda x: x * -1, 2.0, "MulScalar", {"c": -1.0}, True),  # was Neg
    ("0 - x", lambda x: 0 - x, 2.0, "RSubScalar", {"c": 0.0}, True),  # was Neg
    ("x + 1 at 0", lambda x: x + 1, 0.0, "AddScalar", {"c": 1.0}, True),  # was Exp: e^0 = 1, slope 1
    ("sin(0)", lambda x: x.sin(), 0.0, "Sin", {}, True),  # was Tanh: both 0 with slope 1
    ("tanh(0)", lambda x: x.tanh(), 0.0, "Tanh", {}, True),
    ("x + 0 at 0", lambda x: x + 0, 0.0, "AddScalar", {"c": 0.0}, True),  # 0, slope 1: like tanh, sin
    ("sigmoid(0)", lambda x: x.sigmoid(), 0.0, "Sigmoid", {}, True),
    ("add_n([x, ½])", lambda x: _add_n([x, 0.5]), 0.0, "AddN", {"c": 0.5}, True),  # was AddScalar
    ("relu(0)", lambda x: x.relu(), 0.0, "ReLU", {}, False),  # was Square: 0 with slope 0
    ("abs(0)", lambda x: abs(x), 0.0, "Abs", {}, False),  # was Square
    ("x * 0 at 0", lambda x: x * 0, 0.0, "MulScalar", {"c": 0.0}, True),  # shares 0, slope 0 with relu, abs
    ("x ** 2", lambda x: x**2, 3.0, "PowScalar", {"c": 2.0}, True),  # was Square
    ("x / 2", lambda x: x / 2, 3.0, "DivScalar", {"c": 2.0}, True),  # was MulScalar c=0.5
    ("x - 3", lambda x: x - 3, 5.0, "SubScalar", {"c": 3.0}, True),  # was AddScalar c=-3
    ("e ** x", lambda x: math.e**x, 1.5, "RPowScalar", {"c": math.e}, True),  # was Exp
    ("x ** 3 at 1", lambda x: x**3, 1.0, "PowScalar", {"c": 3.0}, True),  # was unrecognised
    ("1 / x at 1", lambda x: 1 / x, 1.0, "RDivScalar", {"c": 1.0}, True),  # was RSubScalar c=2
    ("1 / x at -1", lambda x: 1 / x, -1.0, "RDivScalar", {"c": 1.0}, True),  # was RSubScalar c=-2
    ("exp(0)", lambda x: x.exp(), 0.0, "Exp", {}, True),
    ("cos(0)", lambda x: x.cos(), 0.0, "Cos", {}, True),
    ("log(1)", lambda x: x.log(), 1.0, "Log", {}, True),
    ("sqrt(4)", lambda x: x.sqrt(), 4.0, "Sqrt", {}, True),
    ("-x", lambda x: -x, 2.0, "Neg", {}, True),
]


@pytest.mark.parametrize(("op", "value", "kind", "consts", "smooth"), [c[1:] for c in AMBIGUOUS],
                         ids=[c[0] for c in AMBIGUOUS])  # fmt: skip
def test_recorded_op_names_ambiguous_values_right(torch, op, value, kind, consts, smooth):
    x = _leaf(value)
    y = op(x)
    y.name = "y"
    # A smooth function after it, so the numerical check replays the op on perturbed inputs.
    out = (y * y + x).tanh()
    out.name = "L"
    report = cr.explain(out, numerical_check=smooth)
    row = _row(report, "y")
    assert (row.op, row.consts) == (kind, consts)
    step = report.step("x", kind)
    assert has_rule(kind) and "backward of" not in step.rule
    if smooth:  # (relu and abs at their kink: central differences see a slope of ½ and 0)
        assert report.ok is True, str(report)
    tx = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    ty = op(tx)
    (d_y,) = torch.autograd.grad(ty, tx, retain_graph=True)
    (torch.tanh(ty * ty + tx)).backward()
    assert float(report.values["y"]) == pytest.approx(ty.item(), rel=1e-15, abs=1e-15)
    assert step.local == pytest.approx(d_y.item(), rel=1e-15, abs=1e-15)
    assert float(report.grads["x"]) == pytest.approx(tx.grad.item(), rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------------- operands and constants
# (op, kind with two parents, kind for x op c, kind for c op x); c is a constant Scalar (or 3.0 for torch).
TWO_OPERANDS = [
    (lambda a, b: a + b, "Add", "AddScalar", "AddScalar"),
    (lambda a, b: a - b, "Sub", "SubScalar", "RSubScalar"),
    (lambda a, b: a * b, "Mul", "MulScalar", "MulScalar"),
    (lambda a, b: a / b, "Div", "DivScalar", "RDivScalar"),
    (lambda a, b: a**b, "Pow", "PowScalar", "RPowScalar"),
]


@pytest.mark.parametrize("case", TWO_OPERANDS, ids=[c[1] for c in TWO_OPERANDS])
def test_two_operand_ops_with_and_without_a_constant_operand(torch, case):
    op, both, right, left = case
    c = Scalar(3.0, name="c")  # a constant Scalar: recorded as the op's constant, not as a parent
    forms = [  # (scalar expression, torch expression, kind, inputs)
        (lambda x, w: op(x, w), lambda x, w: op(x, w), both, ["x", "w"]),
        (lambda x, w: op(x, c), lambda x, w: op(x, 3.0), right, ["x"]),
        (lambda x, w: op(c, x), lambda x, w: op(3.0, x), left, ["x"]),
    ]
    for scalar_form, torch_form, kind, inputs in forms:
        x, w = _leaf(1.7, "x"), _leaf(0.6, "w")
        y = scalar_form(x, w)
        y.name = "y"
        report = cr.explain(y, numerical_check=True)
        row = _row(report, "y")
        assert (row.op, row.inputs) == (kind, inputs)
        assert row.consts == ({} if len(inputs) == 2 else {"c": 3.0})
        assert report.ok is True
        tx, tw = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1.7, 0.6))
        torch_form(tx, tw).backward()
        assert float(report.grads["x"]) == pytest.approx(tx.grad.item(), rel=1e-12)
        if len(inputs) == 2:
            assert float(report.grads["w"]) == pytest.approx(tw.grad.item(), rel=1e-12)


# ---------------------------------------------------------------------------- losses and custom ops
def test_losses_are_named_and_checked_numerically(torch):
    F = torch.nn.functional
    preds = [_leaf(0.3, "p0"), _leaf(-1.1, "p1")]
    target = _leaf(0.8, "t")  # a target that requires grad is an input of the loss
    for fn, tfn, kind in [
        (losses.mse, F.mse_loss, "MSELoss"),
        (losses.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, "BCEWithLogitsLoss"),
    ]:
        loss = fn(preds, [1.0, target])
        report = cr.explain(loss, numerical_check=True)
        assert _row(report, report.output).op == "Mean" and _row(report, report.output).consts == {"n": 2}
        loss_rows = sorted((r.inputs, r.consts) for r in report.forward if r.op == kind)
        assert loss_rows == [(["p0"], {"target": 1.0}), (["p1", "t"], {})]
        mean_steps = [s for s in report.steps if s.op == "Mean"]
        assert len(mean_steps) == 2 and all(s.rule.endswith(" / 2") and s.local == 0.5 for s in mean_steps)
        assert report.ok is True, str(report)
        tp = torch.tensor([0.3, -1.1], dtype=torch.float64, requires_grad=True)
        tt = torch.tensor([1.0, 0.8], dtype=torch.float64, requires_grad=True)
        tfn(tp, tt).backward()
        got = [float(report.grads["p0"]), float(report.grads["p1"])]
        np.testing.assert_allclose(got, tp.grad.numpy(), rtol=1e-12)
        assert float(report.grads["t"]) == pytest.approx(tt.grad[1].item(), rel=1e-12)


def test_custom_op_named_by_its_caller_is_not_replayed():
    x = _leaf(2.0, "x")
    y = from_op(math.atan(2.0), (x,), (0.2,), op="atan")
    y.name = "a"
    z = y.exp()
    z.name = "z"
    report = cr.explain(z, numerical_check=True)
    assert [r.op for r in report.forward if r.inputs] == ["atan", "Exp"]
    assert report.step("x").local == 0.2 and report.step("x").numerical is None
    assert float(report.grads["x"]) == pytest.approx(0.2 * math.exp(math.atan(2.0)), rel=1e-12)
    assert report.step("a").ok is True  # the Exp step is still checked


def test_loss_whose_prediction_is_constant_keeps_its_recorded_name():
    t = _leaf(1.0, "t")
    loss = losses.mse(Scalar(0.25), t)  # only the target is a parent: the mse replay does not apply
    loss.name = "L"
    report = cr.explain(loss, numerical_check=True)
    assert report.steps[0].op == "mse" and report.steps[0].rule == "dL/dt = backward of mse"
    assert float(report.grads["t"]) == pytest.approx(-2 * (0.25 - 1.0))
    assert report.ok is None  # nothing could be replayed, nothing is claimed


# ---------------------------------------------------------------------------- the replay is the op itself
def _recorded_nodes() -> list[Scalar]:
    x, w = _leaf(0.8, "x"), _leaf(-0.4, "w")
    nodes = [case[1](x) for case in AMBIGUOUS]
    nodes += [op(x, w) for op, *_ in TWO_OPERANDS] + [op(x, 3.0) for op, *_ in TWO_OPERANDS]
    nodes += [op(3.0, x) for op, *_ in TWO_OPERANDS]
    nodes += [x ** abs(w), add_n([x, w, x]), add_n([x, 0.1, w, 0.2])]
    nodes += [losses.mse(x, 0.3), losses.mse(x, w), losses.binary_cross_entropy(x, 0.3)]
    nodes += [losses.binary_cross_entropy_with_logits(w, x), losses.mean([x, w, x * w])]
    return nodes


def test_replaying_a_recorded_op_gives_its_value():
    for node in _recorded_nodes():
        op = describe(node)
        assert op.forward is not None, node.op
        got = op.forward(*[p.data for p in node.parents])
        assert got == pytest.approx(node.data, rel=1e-15, abs=1e-15), (node.op, op.kind)


def test_describe_refuses_a_leaf():
    with pytest.raises(ValueError, match="leaf"):
        describe(_leaf(1.0, "x"))
