"""``Scalar.op``: every operation records what it did; leaves and constants record nothing."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from chainrule.scalar import Scalar, add_n, from_op, losses
from chainrule.scalar.nn import Linear
from chainrule.scalar.scalar import Op


def leaf(value: float, name: str | None = None) -> Scalar:
    return Scalar(value, name=name).requires_grad_()


def _method(name: str):
    return lambda x, w, c: getattr(x, name)()


C = 3.0  # the constant operand in the cases below; a Scalar without grad records the same

# (label, build(x, w, c), expected op): x and w require grad; c is 3.0 or Scalar(3.0).
RECORDS = [
    ("x + w", lambda x, w, c: x + w, Op("add")),
    ("x + c", lambda x, w, c: x + c, Op("add", C)),
    ("c + x", lambda x, w, c: c + x, Op("add", C)),
    ("x - w", lambda x, w, c: x - w, Op("sub")),
    ("x - c", lambda x, w, c: x - c, Op("sub", C)),
    ("c - x", lambda x, w, c: c - x, Op("rsub", C)),
    ("x * w", lambda x, w, c: x * w, Op("mul")),
    ("x * c", lambda x, w, c: x * c, Op("mul", C)),
    ("c * x", lambda x, w, c: c * x, Op("mul", C)),
    ("x / w", lambda x, w, c: x / w, Op("div")),
    ("x / c", lambda x, w, c: x / c, Op("div", C)),
    ("c / x", lambda x, w, c: c / x, Op("rdiv", C)),
    ("x ** w", lambda x, w, c: x**w, Op("pow")),
    ("x ** c", lambda x, w, c: x**c, Op("pow", C)),
    ("c ** x", lambda x, w, c: c**x, Op("rpow", C)),
    ("-x", lambda x, w, c: -x, Op("neg")),
    ("+x", lambda x, w, c: +x, Op("pos")),
    ("abs(x)", lambda x, w, c: abs(x), Op("abs")),
    *[
        (f"x.{f}()", _method(f), Op(f))
        for f in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos")
    ],
    ("add_n", lambda x, w, c: add_n([x, w, x]), Op("add_n")),
    ("add_n with constants", lambda x, w, c: add_n([x, c, w, 1.5]), Op("add_n", C + 1.5)),
]


@pytest.mark.parametrize(("build", "expected"), [r[1:] for r in RECORDS], ids=[r[0] for r in RECORDS])
@pytest.mark.parametrize("constant", [C, Scalar(C)], ids=["number", "Scalar"])
def test_every_operation_records_its_op(build, expected, constant):
    x, w = leaf(0.7, "x"), leaf(1.9, "w")
    y = build(x, w, constant)
    assert y.op == expected
    assert isinstance(y.op, Op) and (y.op.const is None or type(y.op.const) is float)
    # ... and the op is also what the node computes and how it differentiates.
    assert all(p in (x, w) for p in y.parents)
    assert y.local_grads and len(y.local_grads) == len(y.parents)


def test_square_records_the_exponent():
    x = leaf(-1.5)
    assert (x**2).op == ("pow", 2.0) and (x**2).data == 2.25 and (x**2).local_grads == (-3.0,)
    assert (x**2.0).op == Op("pow", 2.0)


def test_other_real_numbers_are_recorded_as_floats():
    x = leaf(2.0)
    for number in (np.float64(0.25), np.float32(0.25), Fraction(1, 4), 1):
        for y in (x * number, number * x, x + number, x - number, number - x, x / number, number / x):
            assert type(y.op.const) is float, (number, y.op)
        assert (x * number).op.const == float(number)


def test_leaves_and_constants_have_no_op():
    x = leaf(2.0)
    c = Scalar(3.0)
    assert x.op is None and c.op is None and Scalar(1.0).requires_grad_(False).op is None
    assert (c * 2).op is None and (c + c).op is None and c.exp().op is None  # nothing requires grad
    assert add_n([c, 1.0]).op is None and from_op(1.0, (c,), (1.0,)).op is None
    assert x.detach().op is None and (x > 1) is True and (x <= c) is True  # bools, never recorded
    assert losses.mse(Scalar(0.2), 1.0).op is None


def test_linear_outputs_are_add_n_of_products_and_the_bias():
    layer = Linear(3, 2, seed=0)
    xs = [leaf(v) for v in (0.5, -1.0, 2.0)]
    params = dict(layer.named_parameters())
    for j, out in enumerate(layer(xs)):
        assert out.op == Op("add_n")
        *products, bias = out.parents
        assert bias is params[f"bias_{j}"]
        assert [p.op for p in products] == [Op("mul")] * 3
        assert [p.parents for p in products] == [(params[f"weight_{i}_{j}"], xs[i]) for i in range(3)]
    first = layer([0.5, -1.0, 2.0])[0]  # float inputs: each product records its input as the constant
    assert [p.op for p in first.parents[:-1]] == [Op("mul", 0.5), Op("mul", -1.0), Op("mul", 2.0)]


def test_losses_record_their_name_and_constant_target():
    p, t = leaf(0.4), leaf(1.0)
    for fn, kind in [
        (losses.mse, "mse"),
        (losses.binary_cross_entropy, "binary_cross_entropy"),
        (losses.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits"),
    ]:
        assert fn(p, 1.0).op == Op(kind, 1.0) and fn(p, 1.0).parents == (p,)
        assert fn(p, Scalar(1.0)).op == Op(kind, 1.0)  # a target without grad is a constant too
        assert fn(p, t).op == Op(kind) and fn(p, t).parents == (p, t)
    total = losses.mse([p, t], [0.0, 0.5])
    assert total.op == Op("mean", 2.0) and [q.op.kind for q in total.parents] == ["mse", "mse"]


def test_from_op_records_the_given_op():
    x = leaf(2.0)
    assert from_op(math.atan(2.0), (x,), (0.2,)).op == Op("from_op")
    assert from_op(math.atan(2.0), (x,), (0.2,), op="atan").op == Op("atan")
    assert from_op(x.data * 1.5, (x,), (1.5,), op="scale", const=np.float64(1.5)).op == Op("scale", 1.5)
    with pytest.raises(TypeError, match="op must be a non-empty str"):
        from_op(1.0, (x,), (1.0,), op="")
    with pytest.raises(TypeError, match="op must be a non-empty str"):
        from_op(1.0, (x,), (1.0,), op=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="const must be a real number"):
        from_op(1.0, (x,), (1.0,), op="f", const="1")  # type: ignore[arg-type]


def test_recording_the_op_changes_no_value_or_derivative():
    x, w = leaf(0.7), leaf(1.9)
    y = add_n([x * w, (x - 3.0) ** 2, 2.0**w, w.sigmoid() / x, -x.tanh()])
    y.backward()
    s = 1 / (1 + math.exp(-w.data))
    dx = w.data + 2 * (x.data - 3.0) - s / x.data**2 - (1 - math.tanh(x.data) ** 2)
    dw = x.data + 2.0**w.data * math.log(2.0) + s * (1 - s) / x.data
    assert x.derivative == pytest.approx(dx, rel=1e-12) and w.derivative == pytest.approx(dw, rel=1e-12)
