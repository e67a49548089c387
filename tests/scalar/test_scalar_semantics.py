"""Scalar construction, naming, requires_grad propagation, comparisons, special values, errors."""

import math
import re

import pytest

from chainrule.scalar import Scalar, from_op


def leaf(value: float, name: str | None = None) -> Scalar:
    return Scalar(value, name=name).requires_grad_()


def test_defaults_and_counter():
    a, b = Scalar(1.5), Scalar(-2.0)
    assert a.derivative is None and not a.requires_grad and a.is_leaf
    assert b.unique_id > a.unique_id
    assert a.name == str(a.unique_id)
    a.name = "a"
    assert a.name == "a"


def test_repr_format():
    s = Scalar(-1.23456, name="s")
    assert re.fullmatch(r"Scalar\(name=s, unique_id=\d+, data=-1\.2346, derivative=None\)", repr(s))
    s.derivative = 0.123456
    assert repr(s).endswith("derivative=0.1235)")


def test_requires_grad_returns_self_and_propagates():
    x = Scalar(2.0)
    assert x.requires_grad_() is x and x.requires_grad
    c = Scalar(3.0)
    assert (x * c).requires_grad and (c * x).requires_grad and (x + 1).requires_grad
    assert not (c * c).requires_grad and not (c + 1).requires_grad and not c.exp().requires_grad
    assert (c * c).parents == ()
    with pytest.raises(RuntimeError, match="only leaves"):
        (x * 2).requires_grad_(False)
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_zero_grad_and_detach():
    x = leaf(2.0)
    (x * 3).backward()
    assert x.derivative == 3.0
    x.zero_grad()
    assert x.derivative is None
    d = (x * 3).detach()
    assert d.data == 6.0 and not d.requires_grad and d.parents == ()


def test_backward_on_constant_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Scalar(1.0) * 2).backward()


def test_comparisons_are_bools_like_floats():
    x, y = leaf(2.0), leaf(3.0)
    results = [x < y, x > y, x <= 2.0, x >= 2.5, 1 < x, 3 > x, x <= x, x == 2.0, x != y, 2 == x]
    assert results == [True, False, True, False, True, True, True, True, True, True]
    assert all(type(r) is bool for r in results)
    # A mask multiplies the value but contributes no gradient of its own (True is 1).
    z = x * (x > 1.0)
    z.backward()
    assert x.derivative == 1.0


def test_equality_compares_values_and_hash_is_identity():
    a, b = Scalar(1.0), Scalar(1.0)
    assert a == b and a == 1.0 and not (a != b) and a != Scalar(2.0)
    assert (a == "1.0") is False and (a != None) is True  # noqa: E711 - other types are never equal
    assert len({a, b}) == 2 and {a: 1}[a] == 1 and {a: 1}.get(b) is None


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda s: s + "1", "str"),
        (lambda s: "1" + s, "str"),
        (lambda s: s - None, "NoneType"),
        (lambda s: None - s, "NoneType"),
        (lambda s: s / "2", "str"),
        (lambda s: "2" / s, "str"),
        (lambda s: s ** "2", "str"),
        (lambda s: "2" ** s, "str"),
        (lambda s: s < "2", "str"),
        (lambda s: s >= None, "NoneType"),
        (lambda s: s * 1j, "complex"),
        (lambda s: -s @ s, "Scalar"),
        # list's own __mul__/__rmul__ answers once Scalar declines: its message names Scalar.
        (lambda s: s * [1], "Scalar"),
        (lambda s: [1] * s, "Scalar"),
    ],
)
def test_bad_operand_types_raise_type_error(make, named):
    with pytest.raises(TypeError, match=named):
        make(Scalar(1.0))


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="str"):
        Scalar("1.0")
    with pytest.raises(TypeError, match="NoneType"):
        Scalar(None)
    with pytest.raises(TypeError, match="Scalar"):
        Scalar(Scalar(1.0))
    with pytest.raises(TypeError, match="int"):
        Scalar(1.0, name=3)


def test_log_and_sqrt_domains():
    zero = leaf(0.0)
    out = zero.log()
    assert out.data == -math.inf
    out.backward()
    assert zero.derivative == math.inf
    assert math.isnan(Scalar(-2.5).log().data) and math.isnan(Scalar(-4.0).sqrt().data)
    zero = leaf(0.0)
    out = zero.sqrt()
    out.backward()
    assert out.data == 0.0 and zero.derivative == math.inf


def test_stable_sigmoid_and_exp():
    for x, expected in [(-1000.0, 0.0), (1000.0, 1.0), (-745.0, 0.0)]:
        s = leaf(x)
        out = s.sigmoid()
        out.backward()
        assert out.data == pytest.approx(expected, abs=1e-300)
        assert s.derivative == pytest.approx(0.0, abs=1e-300)
    assert Scalar(-40.0).sigmoid().data > 0.0  # e^-40 / (1 + e^-40), not 1 - 1
    assert Scalar(1000.0).exp().data == math.inf


def test_division_by_zero_and_complex_powers_are_ieee():
    assert (Scalar(1.0) / 0.0).data == math.inf and (-1.0 / Scalar(0.0)).data == -math.inf
    assert (Scalar(1.0) / -0.0).data == -math.inf and math.isnan((Scalar(0.0) / 0.0).data)
    assert math.isnan((Scalar(-2.0) ** 0.5).data) and (Scalar(0.0) ** -1.0).data == math.inf


def test_relu_and_abs_at_zero():
    z = leaf(0.0)
    (z.relu() + z.abs()).backward()
    assert z.derivative == 0.0


def test_from_op_custom_operation():
    x, c = leaf(3.0), Scalar(2.0)
    y = from_op(x.data * c.data, (x, c), (c.data, x.data))
    assert y.parents == (x,) and y.local_grads == (2.0,)
    y.backward()
    assert x.derivative == 2.0
    with pytest.raises(ValueError, match="operands"):
        from_op(1.0, (x,), ())
    with pytest.raises(TypeError, match="float"):
        from_op(1.0, (1.0,), (1.0,))


def test_float_conversion():
    assert float(Scalar(2.5)) == 2.5
