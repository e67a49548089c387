"""In-place ops (``add_``, ``mul_``, ``t[k] = v``...): gradients like torch's, version counters, and the
errors that stop a backward pass from silently using overwritten values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

A = [1.0, 2.0, 3.0]
B = [0.5, -1.0, 2.0]

CASES: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add_": lambda m, y, b: y.add_(b),
    "add_ alpha": lambda m, y, b: y.add_(b, alpha=2),
    "sub_ mul_ div_": lambda m, y, b: y.sub_(b).mul_(b).div_(b),
    "add_ number": lambda m, y, b: y.add_(2.5),
    "mul_ number": lambda m, y, b: y.mul_(-3),
    "clamp_": lambda m, y, b: y.clamp_(1.5, 2.5),
    "zero_": lambda m, y, b: y.zero_(),
    "fill_": lambda m, y, b: y.fill_(3.0),
    "copy_": lambda m, y, b: y.copy_(b),
    "copy_ broadcast": lambda m, y, b: y.copy_(b[:1]),
    "setitem slice": lambda m, y, b: y.__setitem__(slice(0, 2), b[1:] * 2),
    "setitem int": lambda m, y, b: y.__setitem__(1, b[0]),
    "setitem mask": lambda m, y, b: y.__setitem__(y > 1.5, 0.0),
    "setitem number": lambda m, y, b: y.__setitem__(0, 5.0),
    "setitem broadcast": lambda m, y, b: y.__setitem__(slice(None), b[0]),
    "setitem int array": lambda m, y, b: y.__setitem__(
        np.array([2, 0]) if m is cr else m.tensor([2, 0]), b[:2]
    ),
}


def _run(m: Any, case: Callable[[Any, Any, Any], Any]) -> tuple[np.ndarray, ...]:
    a = m.tensor(A, dtype=m.float64, requires_grad=True)
    b = m.tensor(B, dtype=m.float64, requires_grad=True)
    y = a * 1
    case(m, y, b)
    (y * y).sum().backward()
    grads = [np.zeros(3) if g is None else np.asarray(g.numpy()) for g in (a.grad, b.grad)]
    return np.asarray(y.detach().numpy()), *grads


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_in_place_ops_in_a_graph_match_torch(case: Callable[[Any, Any, Any], Any], torch) -> None:  # noqa: ANN001
    ours, theirs = _run(cr, case), _run(torch, case)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_in_place_keeps_the_python_object_and_bumps_the_version() -> None:
    a = cr.tensor(A, requires_grad=True)
    y = a * 2
    before = y._version
    out = y.add_(1)
    assert out is y and y._version == before + 1 and y.creator is not None
    y[0] = 7.0
    assert y._version == before + 2


def test_in_place_on_a_leaf_that_requires_grad_raises_unless_no_grad(torch) -> None:  # noqa: ANN001
    a = cr.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        a.add_(1)
    with pytest.raises(RuntimeError, match="leaf"):
        a[0] = 1.0
    with pytest.raises(RuntimeError):
        torch.tensor(A, requires_grad=True).add_(1)
    with cr.no_grad():  # what optimizers do
        a.sub_(cr.tensor([1.0, 1.0, 1.0]), alpha=0.5)
        a[2] = 0.0
    np.testing.assert_array_equal(a.numpy(), [0.5, 1.5, 0.0])
    assert a.is_leaf and a.requires_grad and a._version == 2


def test_modifying_a_saved_input_makes_backward_raise(torch) -> None:  # noqa: ANN001
    a = cr.tensor(A, requires_grad=True)
    y = a * 2
    z = y.sin()  # Sin saves its input y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    t = torch.tensor(A, requires_grad=True)
    ty = t * 2
    tz = ty.sin()
    ty.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.sum().backward()


def test_rebinding_a_non_leaf_used_earlier_raises_or_matches_torch(torch) -> None:  # noqa: ANN001
    """z = y + 1 does not read y's value, but y.mul_(3) rebinds y to a new creator: chainrule may refuse
    (clear RuntimeError) rather than route z's gradient through the in-place op; torch gets 2 + 6 = 8."""

    def run(m: Any) -> np.ndarray:
        a = m.tensor(A, requires_grad=True)
        y = a * 2
        z = y + 1
        y.mul_(3)
        (z.sum() + y.sum()).backward()
        return np.asarray(a.grad.numpy())

    try:
        ours = run(cr)
    except RuntimeError as exc:
        assert "inplace" in str(exc)
    else:
        np.testing.assert_array_equal(ours, run(torch))


def test_modifying_under_no_grad_is_still_detected() -> None:
    a = cr.tensor(A, requires_grad=True)
    y = a * 2
    z = y * y
    with cr.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="version"):
        z.sum().backward()


def test_a_view_shares_the_version_counter() -> None:
    a = cr.tensor(A, requires_grad=True)
    y = a * 2
    z = y.exp() * y  # Mul saves y
    v = y.reshape(3, 1)
    with cr.no_grad():
        v.mul_(2)  # writes through to y's memory
    assert y._version == v._version == 1
    np.testing.assert_array_equal(y.data, 4 * np.array(A))
    with pytest.raises(RuntimeError, match="inplace"):
        z.sum().backward()


def test_in_place_on_a_view_in_a_graph_raises_or_matches_torch(torch) -> None:  # noqa: ANN001
    def run(m: Any) -> np.ndarray:
        a = m.tensor(A, dtype=m.float64, requires_grad=True)
        y = a * 1
        y[1:].mul_(2)
        (y * y).sum().backward()
        return np.asarray(a.grad.numpy())

    try:
        ours = run(cr)
    except RuntimeError as exc:
        assert "view" in str(exc)  # refused with a clear message instead of a wrong gradient
    else:
        np.testing.assert_allclose(ours, run(torch))


def test_setitem_with_a_value_that_requires_grad_on_a_plain_tensor() -> None:
    b = cr.tensor(B, requires_grad=True)
    t = cr.zeros(5, dtype=cr.float64)
    t[1:4] = b
    assert t.requires_grad and t.creator is not None
    (t * cr.arange(5).double()).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0, 3.0])


def test_in_place_shape_errors() -> None:
    y = cr.tensor(A, requires_grad=True) * 1
    with pytest.raises((ValueError, RuntimeError)):
        y.add_(cr.ones(4))
    with pytest.raises(RuntimeError, match="broadcast shape"):
        cr.zeros(3).add_(cr.ones(2))
    with pytest.raises(ValueError, match="clamp_"):
        y.clamp_()
