"""Every Scalar operation: value and derivatives vs central differences and vs PyTorch (float64)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.scalar import Scalar, add_n

try:
    import torch
except ImportError:  # the finite-difference checks still run
    torch = None

FAST = settings(max_examples=40, deadline=None)


def reals(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.tuples(reals(lo, hi), st.booleans()).map(lambda t: t[0] if t[1] else -t[0])


ANY = reals(-5.0, 5.0)
NONZERO = away_from_zero(0.1, 5.0)
POSITIVE = reals(0.05, 20.0)

# name -> (function of Scalars or tensors, strategy for each argument)
UNARY = {
    "neg": (lambda a: -a, ANY),
    "pos": (lambda a: +a, ANY),
    "radd": (lambda a: 2.5 + a, ANY),
    "add_number": (lambda a: a + 2.5, ANY),
    "rsub": (lambda a: 2.5 - a, ANY),
    "sub_number": (lambda a: a - 2.5, ANY),
    "rmul": (lambda a: 2.5 * a, ANY),
    "mul_int": (lambda a: a * 3, ANY),
    "rtruediv": (lambda a: 2.5 / a, NONZERO),
    "truediv_number": (lambda a: a / 2.5, ANY),
    "square": (lambda a: a**2, ANY),
    "cube": (lambda a: a**3, ANY),
    "pow_fraction": (lambda a: a**0.7, POSITIVE),
    "pow_negative": (lambda a: a**-1.5, POSITIVE),
    "rpow": (lambda a: 2.5**a, ANY),
    "exp": (lambda a: a.exp(), reals(-10.0, 10.0)),
    "log": (lambda a: a.log(), POSITIVE),
    "sqrt": (lambda a: a.sqrt(), POSITIVE),
    "tanh": (lambda a: a.tanh(), ANY),
    "sigmoid": (lambda a: a.sigmoid(), reals(-30.0, 30.0)),
    "relu": (lambda a: a.relu(), NONZERO),
    "sin": (lambda a: a.sin(), reals(-10.0, 10.0)),
    "cos": (lambda a: a.cos(), reals(-10.0, 10.0)),
    "abs": (lambda a: a.abs(), NONZERO),
    "builtin_abs": (lambda a: abs(a), NONZERO),
}
BINARY = {
    "add": (lambda a, b: a + b, ANY, ANY),
    "sub": (lambda a, b: a - b, ANY, ANY),
    "mul": (lambda a, b: a * b, ANY, ANY),
    "truediv": (lambda a, b: a / b, ANY, NONZERO),
    "pow": (lambda a, b: a**b, POSITIVE, reals(-2.0, 2.0)),
}


def leaf(value: float) -> Scalar:
    return Scalar(value).requires_grad_()


def value_of(fn, *values: float) -> float:
    return fn(*(Scalar(v) for v in values)).data


def central_difference(fn, values: list[float], k: int) -> float:
    h = 1e-6 * max(1.0, abs(values[k]))
    up, down = list(values), list(values)
    up[k] += h
    down[k] -= h
    return (value_of(fn, *up) - value_of(fn, *down)) / (2 * h)


def ours(fn, *values: float) -> tuple[float, list[float]]:
    leaves = [leaf(v) for v in values]
    out = fn(*leaves)
    out.backward()
    return out.data, [s.derivative for s in leaves]


def theirs(fn, *values: float) -> tuple[float, list[float]]:
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = fn(*leaves)
    out.backward()
    return out.item(), [t.grad.item() for t in leaves]


def check(fn, values: list[float]) -> None:
    value, grads = ours(fn, *values)
    assert math.isclose(value, value_of(fn, *values), rel_tol=0.0)
    if torch is not None:
        torch_value, torch_grads = theirs(fn, *values)
        assert math.isclose(value, torch_value, rel_tol=1e-12, abs_tol=1e-12)
        for k, grad in enumerate(grads):
            assert math.isclose(grad, torch_grads[k], rel_tol=1e-12, abs_tol=1e-12), (k, grad, torch_grads[k])
    for k, grad in enumerate(grads):
        numeric = central_difference(fn, values, k)
        assert math.isclose(grad, numeric, rel_tol=1e-5, abs_tol=1e-6), (k, grad, numeric)


@pytest.mark.parametrize("name", UNARY)
@FAST
@given(data=st.data())
def test_unary_against_torch_and_differences(name, data):
    fn, domain = UNARY[name]
    check(fn, [data.draw(domain)])


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(data=st.data())
def test_binary_against_torch_and_differences(name, data):
    fn, left, right = BINARY[name]
    check(fn, [data.draw(left), data.draw(right)])


needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


@needs_torch
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("constant", [0, 1])
def test_binary_with_one_constant_operand(name, constant):
    fn, _, _ = BINARY[name]
    values = [1.7, 0.6]
    operands = [leaf(v) for v in values]
    operands[constant] = Scalar(values[constant])
    out = fn(*operands)
    assert out.requires_grad
    out.backward()
    assert operands[constant].derivative is None
    other = 1 - constant
    _, torch_grads = theirs(fn, *values)
    assert math.isclose(operands[other].derivative, torch_grads[other], rel_tol=1e-12)
    assert out.parents == (operands[other],)


def test_self_operand_counts_twice():
    a = leaf(3.0)
    (a * a).backward()
    assert a.derivative == 6.0
    b = leaf(2.0)
    (b / b).backward()
    assert b.derivative == 0.0


@needs_torch
def test_scalar_exponent_edge_cases_match_torch():
    for base, exponent in [(0.0, 2.0), (0.0, 0.5), (-2.0, 3.0), (4.0, 0.0), (0.0, 0.0)]:
        ours_value, ours_grads = ours(lambda a, b: a**b, base, exponent)
        torch_value, torch_grads = theirs(lambda a, b: a**b, base, exponent)
        assert ours_value == torch_value
        for g, t in zip(ours_grads, torch_grads):
            assert (math.isnan(g) and math.isnan(t)) or g == t, (base, exponent, ours_grads, torch_grads)


def test_sum_of_scalars():
    xs = [leaf(float(k)) for k in range(5)]
    total = sum(xs)
    assert total.data == 10.0
    total.backward()
    assert [x.derivative for x in xs] == [1.0] * 5


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    x = leaf(2.0)
    for out in (np.float64(3.0) * x, x * np.float32(3.0), np.int64(3) * x, x + np.int64(1)):
        assert type(out.data) is float
    y = np.float64(3.0) * x
    y.backward()
    assert x.derivative == 3.0 and type(x.derivative) is float


def test_int_data_becomes_float():
    s = Scalar(3)
    assert type(s.data) is float and s.data == 3.0
    assert type((s * 2).data) is float
    assert type((2 ** Scalar(2)).data) is float


@FAST
@given(st.lists(st.tuples(ANY, st.booleans()), min_size=1, max_size=8), ANY)
def test_add_n_equals_sum(terms, number):
    def build():
        return [Scalar(v).requires_grad_() if grad else Scalar(v) for v, grad in terms]

    chained, fused = build(), build()
    a, b = sum(chained) + number, add_n([*fused, number])
    assert a.data == b.data and a.requires_grad == b.requires_grad
    assert all(s.requires_grad for s in b.parents) and len(b.parents) == sum(g for _, g in terms)
    if b.requires_grad:
        a.backward(1.5)
        b.backward(1.5)
        assert [s.derivative for s in chained] == [s.derivative for s in fused]


def test_add_n_repeated_operand_and_errors():
    x = Scalar(2.0).requires_grad_()
    add_n([x, x, x]).backward()
    assert x.derivative == 3.0
    assert add_n([]).data == 0.0 and not add_n([]).requires_grad
    with pytest.raises(TypeError, match="str"):
        add_n([x, "1"])
