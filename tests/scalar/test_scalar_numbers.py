"""A Scalar behaves as a Python float (comparisons, truthiness, conversions, formatting), and every float edge
gives PyTorch float64's inf/nan values and gradients, never an exception."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.scalar import Scalar

floats = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(-1e6, 1e6)
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 10.0, 1e200, -1e200, 1e-300, math.inf, -math.inf, math.nan]


@given(floats, floats)
def test_comparisons_and_truthiness_are_those_of_floats(a: float, b: float):
    x, y = Scalar(a), Scalar(b)
    assert [x < y, x <= y, x > y, x >= y, x == y, x != y] == [a < b, a <= b, a > b, a >= b, a == b, a != b]
    assert [x < b, b < x, x == b, b == x] == [a < b, b < a, a == b, b == a]
    assert bool(x) is bool(a)


@given(st.lists(finite, min_size=1, max_size=8))
def test_sorted_max_min_follow_the_values(values: list[float]):
    scalars = [Scalar(v) for v in values]
    assert [s.data for s in sorted(scalars)] == sorted(values)
    assert max(scalars).data == max(values) and min(scalars).data == min(values)
    assert max(scalars) in scalars  # the Scalar itself, so a gradient can flow through it


@given(finite)
def test_conversions_and_formatting_are_those_of_floats(a: float):
    x = Scalar(a)
    assert float(x) == a and int(x) == int(a) and round(x) == round(a) and round(x, 2) == round(a, 2)
    assert math.trunc(x) == math.trunc(a) and math.floor(x) == math.floor(a) and math.ceil(x) == math.ceil(a)
    for spec in [".4f", ".3e", "g", ">12.2f", "+.1%"]:
        assert f"{x:{spec}}" == f"{a:{spec}}"
    assert f"{x}" == str(x) and f"{x!r}" == repr(x)


def test_conversions_of_inf_and_nan_raise_as_for_floats():
    with pytest.raises(OverflowError):
        int(Scalar(math.inf))
    with pytest.raises(ValueError, match="NaN"):
        int(Scalar(math.nan))
    assert f"{Scalar(math.nan):.2f}" == "nan" and f"{Scalar(-math.inf):.2f}" == "-inf"


def test_if_statements_and_hand_written_relu():
    loss = Scalar(0.004)
    assert (loss < 0.01) is True and not Scalar(0.0) and Scalar(-1.0)
    x = Scalar(-1.0).requires_grad_()
    y = x if x > 0 else x * 0
    y.backward()
    assert y.data == 0.0 and x.derivative == 0.0


def test_equality_is_by_value_and_hash_by_identity():
    a, b = Scalar(2.0), Scalar(2.0)
    assert a == b == 2.0 and a != 3 and not (a == "2.0")
    assert len({a, b}) == 2 and {a: "a", b: "b"}[b] == "b"
    (a * b).requires_grad is False  # noqa: B015 - equal values never merge graph nodes


UNARY = {
    "exp": (lambda s: s.exp(), "exp"),
    "log": (lambda s: s.log(), "log"),
    "sqrt": (lambda s: s.sqrt(), "sqrt"),
    "tanh": (lambda s: s.tanh(), "tanh"),
    "sigmoid": (lambda s: s.sigmoid(), "sigmoid"),
    "relu": (lambda s: s.relu(), "relu"),
    "sin": (lambda s: s.sin(), "sin"),
    "cos": (lambda s: s.cos(), "cos"),
    "abs": (lambda s: abs(s), "abs"),
    "square": (lambda s: s**2, None),
    "cube": (lambda s: s**3, None),
    "pow_400": (lambda s: s**400, None),
    "pow_half": (lambda s: s**0.5, None),
    "pow_minus_one": (lambda s: s**-1.0, None),
    "pow_minus_two": (lambda s: s**-2, None),
    "reciprocal": (lambda s: 1.0 / s, None),
    "over_zero": (lambda s: s / 0.0, None),
    "over_minus_zero": (lambda s: s / -0.0, None),
    "two_to_the": (lambda s: 2.0**s, None),
    "minus_two_to_the": (lambda s: (-2.0) ** s, None),
    "zero_to_the": (lambda s: 0.0**s, None),
    "times_itself": (lambda s: s * s, None),
    "neg": (lambda s: -s, None),
}


def _torch_value_and_grad(torch, fn, name, a: float) -> tuple[float, float | None]:  # noqa: ANN001
    x = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    y = getattr(torch, name)(x) if name else fn(x)
    y.backward()
    return y.item(), x.grad.item()


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_float_edges_match_torch_float64(torch, op: str):
    fn, name = UNARY[op]
    for a in EDGES:
        if op == "pow_half" and (a == -math.inf or (a == 0.0 and math.copysign(1.0, a) < 0.0)):
            continue  # torch computes x ** 0.5 as sqrt: nan at -inf, gradient -inf at -0.0 (C pow: inf, inf)
        x = Scalar(a).requires_grad_()
        y = fn(x)  # never raises
        y.backward()
        value, grad = _torch_value_and_grad(torch, fn, name, a)
        assert _same(y.data, value), f"{op}({a}): {y.data} vs torch {value}"
        assert _same(x.derivative, grad), f"d {op}({a}): {x.derivative} vs torch {grad}"


@pytest.mark.parametrize(
    ("op", "fn"),
    [
        ("add", lambda x, y: x + y),
        ("sub", lambda x, y: x - y),
        ("mul", lambda x, y: x * y),
        ("div", lambda x, y: x / y),
        ("pow", lambda x, y: x**y),
    ],
)
def test_binary_float_edges_match_torch_float64(torch, op: str, fn):  # noqa: ANN001
    pairs = [(a, b) for a in EDGES[::2] for b in EDGES[::2]]
    for a, b in pairs:
        x, y = Scalar(a).requires_grad_(), Scalar(b).requires_grad_()
        z = fn(x, y)
        z.backward()
        tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        tz = fn(tx, ty)
        tz.backward()
        assert _same(z.data, tz.item()), f"{a} {op} {b}: {z.data} vs torch {tz.item()}"
        assert _same(x.derivative, tx.grad.item()), f"d/dx {a} {op} {b}: {x.derivative} vs {tx.grad.item()}"
        assert _same(y.derivative, ty.grad.item()), f"d/dy {a} {op} {b}: {y.derivative} vs {ty.grad.item()}"


@given(floats)
def test_no_float_raises_an_exception(a: float):
    for fn, _ in UNARY.values():
        x = Scalar(a).requires_grad_()
        fn(x).backward()
        assert isinstance(x.derivative, float)


@given(st.lists(finite, min_size=3, max_size=3), st.lists(st.floats(-1, 1), min_size=4, max_size=4))
def test_a_neuron_computes_what_python_floats_compute(xs: list[float], ws: list[float]):
    """The same expression on Scalars and on floats (with ``math``) gives the same bits, ``if`` included."""

    def neuron(x: list, w: list, tanh, relu):  # noqa: ANN001, ANN202
        out = tanh(sum((wi * xi for wi, xi in zip(w[:3], x)), w[3]))
        return relu(out) if out > 0 else out * 0.5

    floats = neuron(xs, ws, math.tanh, lambda v: max(v, 0.0))
    scalars = neuron([Scalar(v) for v in xs], [Scalar(v) for v in ws], Scalar.tanh, Scalar.relu)
    assert scalars.data == floats
