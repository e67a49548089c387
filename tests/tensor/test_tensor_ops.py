"""Op API details beyond the parity suite: spellings, forms, defaults, ties, comparisons, 0-d tensors, errors.

(Values and gradients of every op against torch, over hypothesis-drawn shapes: tests/parity.)
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import METHODS

REDUCTIONS = ["sum", "mean", "var", "std", "amax", "amin", "logsumexp", "prod"]


def _t(values, requires_grad: bool = True) -> cr.Tensor:  # noqa: ANN001
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("name", METHODS)
def test_every_method_also_exists_as_a_function(name: str) -> None:
    assert callable(getattr(cr.Tensor, name)) and callable(getattr(cr, name))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (-1, 0)])
@pytest.mark.parametrize("keep", [False, True])
def test_dim_axis_keepdim_keepdims_spellings_agree(name: str, dim, keep: bool) -> None:  # noqa: ANN001
    x = _t(np.random.default_rng(0).standard_normal((2, 3, 4)))
    ref = getattr(cr, name)(x, dim=dim, keepdim=keep)
    for y in (
        getattr(x, name)(dim, keepdim=keep),
        getattr(x, name)(axis=dim, keepdims=keep),
        getattr(cr, name)(x, axis=dim, keepdim=keep),
        getattr(x, name)(dim=dim, keepdims=keep),
    ):
        assert y.shape == ref.shape
        np.testing.assert_allclose(y.data, ref.data)
    with pytest.raises(TypeError, match="not both"):
        getattr(x, name)(dim=0, axis=0)


def test_var_and_std_are_unbiased_by_default_like_torch(torch) -> None:  # noqa: ANN001
    a = np.random.default_rng(1).standard_normal((3, 5))
    x, t = _t(a), torch.tensor(a)
    cases = [
        ({}, {}),
        ({"unbiased": False}, {"unbiased": False}),
        ({"correction": 0}, {"correction": 0}),
        ({"correction": 2, "dim": 1}, {"correction": 2, "dim": 1}),
        ({"dim": 0}, {"dim": 0}),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(x.var(**ours).data, t.var(**theirs).numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.std(**ours).data, t.std(**theirs).numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.var().data, a.var(ddof=1), rtol=1e-12)
    with pytest.raises(TypeError):
        x.var(unbiased=True, correction=1)


@pytest.mark.parametrize("name", ["amax", "amin", "max", "min"])
def test_ties_share_the_gradient_evenly_like_torch(name: str, torch) -> None:  # noqa: ANN001
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x, t = _t(a), torch.tensor(a, requires_grad=True)
    ours = getattr(x, name)() if name in ("max", "min") else getattr(x, name)(1)
    theirs = getattr(t, name)() if name in ("max", "min") else getattr(t, name)(1)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_max_with_dim_returns_values_and_indices_with_the_gradient_at_the_index(torch) -> None:  # noqa: ANN001
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x, t = _t(a), torch.tensor(a, requires_grad=True)
    for name in ("max", "min"):
        res, tres = getattr(x, name)(dim=1), getattr(t, name)(dim=1)
        values, indices = res
        assert res.values is values and res.indices is indices
        assert indices.dtype == np.int64 and not indices.requires_grad
        np.testing.assert_array_equal(indices.numpy(), tres.indices.numpy())
        (values * cr.tensor([1.0, 10.0], dtype="float64")).sum().backward()
        (tres.values * torch.tensor([1.0, 10.0], dtype=torch.float64)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    v, i = x.max(1, keepdim=True)
    assert v.shape == (2, 1) and i.shape == (2, 1)
    m = cr.max(x, cr.tensor([[0.0, 6.0, 0.0]], dtype="float64"))  # torch.max(a, b): elementwise
    np.testing.assert_array_equal(m.data, np.maximum(a, [[0.0, 6.0, 0.0]]))
    with pytest.raises(TypeError):
        x.max(dim=(0, 1))


def test_argmax_argmin_have_no_gradient(torch) -> None:  # noqa: ANN001
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x, t = _t(a), torch.tensor(a)
    for name in ("argmax", "argmin"):
        for kwargs in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1}):
            r, tr = getattr(x, name)(**kwargs), getattr(t, name)(**kwargs)
            assert not r.requires_grad and r.dtype == np.int64 and r.creator is None
            np.testing.assert_array_equal(r.numpy(), tr.numpy())


def test_comparisons_give_bool_tensors_without_grad() -> None:
    x = _t([1.0, 2.0, 3.0])
    results = [
        x < 2,
        x <= 2,
        x > 2,
        x >= 2,
        x == 2,
        x != 2,
        2 < x,
        np.array([0.0, 2.0, 4.0]) > x,
        x < cr.tensor([3.0, 2.0, 1.0]),
        cr.lt(x, 2.5),
    ]
    expected = [
        [1, 0, 0],
        [1, 1, 0],
        [0, 0, 1],
        [0, 1, 1],
        [0, 1, 0],
        [1, 0, 1],
        [0, 0, 1],
        [0, 0, 1],
        [1, 0, 0],
        [1, 1, 0],
    ]
    for r, e in zip(results, expected):
        assert isinstance(r, cr.Tensor) and r.dtype == np.bool_ and not r.requires_grad and r.creator is None
        np.testing.assert_array_equal(r.numpy(), np.array(e, dtype=bool))
    m = x > 1
    np.testing.assert_array_equal((~m).numpy(), [True, False, False])
    np.testing.assert_array_equal((m & (x < 3)).numpy(), [False, True, False])
    np.testing.assert_array_equal((m | (x < 2)).numpy(), [True, True, True])


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
@pytest.mark.parametrize("other", [2, 2.5, np.float64(1.5), np.array([1.5, 2.0]), [1.5, 2.0]], ids=repr)
def test_numbers_and_arrays_on_either_side(op, other, torch) -> None:  # noqa: ANN001
    a = np.array([0.5, 1.5])
    x, t = _t(a), torch.tensor(a, requires_grad=True)
    other_t = torch.tensor(other) if isinstance(other, (np.ndarray, list)) else other
    for left in (True, False):
        if isinstance(other, list) and left:
            continue  # a list on the left is Python's list operator
        ours = op(other, x) if left else op(x, other)
        theirs = op(other_t, t) if left else op(t, other_t)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
        g = cr.grad(ours.sum(), x)[0]
        (tg,) = torch.autograd.grad(theirs.sum(), t)
        np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-12)


def test_matmul_with_an_ndarray_on_either_side() -> None:
    a = np.arange(6.0).reshape(2, 3)
    x = _t(np.ones((3, 2)))
    np.testing.assert_array_equal((a @ x).data, a @ np.ones((3, 2)))
    np.testing.assert_array_equal((x @ a).data, np.ones((3, 2)) @ a)


@pytest.mark.parametrize(
    ("call", "op"),
    [
        (lambda: _t(np.ones((2, 3))) + _t(np.ones(4)), "Add"),
        (lambda: _t(np.ones((2, 3))) * np.ones((3, 2)), "Mul"),
        (lambda: _t(np.ones((2, 3))) - _t(np.ones((4, 1, 2))), "Sub"),
        (lambda: _t(np.ones((2, 3))) / _t(np.ones(2)), "Div"),
        (lambda: cr.maximum(_t(np.ones(2)), _t(np.ones(3))), "Maximum"),
        (lambda: cr.where(np.ones(2, bool), _t(np.ones(3)), _t(np.ones(2))), "Where"),
        (lambda: _t(np.ones((2, 3))) @ _t(np.ones((4, 2))), "matmul"),
        (lambda: cr.dot(_t(np.ones(3)), _t(np.ones(4))), "dot"),
        (lambda: cr.cat([_t(np.ones((2, 3))), _t(np.ones((3, 2)))]), "cat"),
        (lambda: cr.stack([_t(np.ones(3)), _t(np.ones(4))]), "stack"),
        (lambda: _t(np.ones((2, 3))).reshape(4, 2), "reshape"),
        (lambda: _t(np.ones((2, 3))).expand(4, 3), "broadcast_to"),
        (lambda: _t(np.ones((2, 3))).sum_to((4,)), "sum_to"),
        (lambda: cr.einsum("ij,jk->ik", _t(np.ones((2, 3))), _t(np.ones((4, 2)))), "Einsum"),
    ],
)
def test_shape_mismatches_raise_value_error_naming_the_op_and_both_shapes(call, op: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert op in message, message
    assert "(2, 3)" in message or "(2,)" in message or "(3,)" in message, message


def test_zero_dimensional_tensors(torch) -> None:  # noqa: ANN001
    z, t = _t(2.0), torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ops = [
        lambda m: m.sum(0),
        lambda m: m.amax(-1),
        lambda m: m.mean(),
        lambda m: m.max(),
        lambda m: m.max(0)[0],
        lambda m: m.min(-1)[0],
        lambda m: m.logsumexp(0),
        lambda m: m.cumsum(0),
        lambda m: m.prod(0),
        lambda m: m.flip(0),
        lambda m: m.unsqueeze(0),
        lambda m: m.reshape(1, 1),
        lambda m: m[None, ..., None],
        lambda m: m.expand(3),
        lambda m: m * m.exp(),
        lambda m: m.squeeze(),
        lambda m: m.flatten(),
    ]
    for i, op in enumerate(ops):
        ours, theirs = op(z), op(t)
        assert ours.shape == tuple(theirs.shape), i
        (g,) = cr.grad(ours.sum(), z)
        (tg,) = torch.autograd.grad(theirs.sum(), t)
        np.testing.assert_allclose(g.data, tg.numpy(), err_msg=str(i))
    _values, index = z.max(0)
    assert index.shape == () and int(index) == 0
    assert z.item() == 2.0 and float(z) == 2.0 and len(z.shape) == 0
    with pytest.raises(TypeError):
        len(z)


def test_einsum_argument_errors() -> None:
    a = _t(np.ones((2, 3)))
    with pytest.raises(ValueError, match="operands"):
        cr.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="subscripts"):
        cr.einsum("ijk->i", a)
    np.testing.assert_array_equal(cr.einsum("ij->ji", [a]).data, np.ones((3, 2)))


def test_reductions_reject_bad_dims() -> None:
    x = _t(np.ones((2, 3)))
    with pytest.raises(IndexError, match="out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="repeats"):
        x.sum((0, -2))
    with pytest.raises(ValueError, match="empty"):
        cr.amax(cr.zeros(0, 3), 0)
    with pytest.raises(TypeError, match="dim is required"):
        x.cumsum()


def test_split_chunk_unbind_match_torch_sizes(torch) -> None:  # noqa: ANN001
    a = np.arange(14.0).reshape(7, 2)
    x, t = _t(a), torch.tensor(a)
    for ours, theirs in [
        (x.split(3), t.split(3)),
        (x.split([2, 5]), t.split([2, 5])),
        (x.chunk(3), t.chunk(3)),
        (x.chunk(4), t.chunk(4)),
        (x.unbind(1), t.unbind(1)),
        (x.chunk(2, 1), t.chunk(2, 1)),
    ]:
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    with pytest.raises(ValueError, match="add up"):
        x.split([2, 2])


def test_unused_split_outputs_get_zero_gradients() -> None:
    x = _t(np.arange(6.0))
    _a, b, _c = x.split(2)
    (b * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 3, 3, 0, 0])
    x.grad = None
    last = x.chunk(3)[2]  # the other two outputs are dropped at once (their weak refs die)
    last.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 0, 1, 1])


EDGES = {
    "x ** 0 at 0": (lambda m, x: x**0, [0.0, 2.0]),
    "x ** 0.5 at 0": (lambda m, x: x**0.5, [0.0, 2.0]),
    "x ** x*0 (tensor exponent 0) at 0": (lambda m, x: x ** (x * 0), [0.0, 2.0]),
    "0 ** x": (lambda m, x: 0**x, [0.5, 2.0]),
    "std of a constant": (lambda m, x: (x * 0 + 1).std(), [1.0, 2.0]),
    "std over a constant dim": (lambda m, x: m.stack([x, x]).std(0), [1.0, 2.0]),
    "norm of a zero vector": (lambda m, x: (x * 0).norm(), [1.0, 2.0]),
    "3-norm of a zero vector": (
        lambda m, x: m.linalg.vector_norm(x * 0, 3) if m is not cr else (x * 0).norm(3),
        [1.0, 2.0],
    ),
    "relu at 0": (lambda m, x: m.relu(x), [0.0, -0.0]),
    "abs at 0": (lambda m, x: x.abs(), [0.0, 1.0]),
    "sqrt at 0": (lambda m, x: x.sqrt(), [0.0, 1.0]),
    "logsumexp with -inf": (lambda m, x: m.logsumexp(x, 0), [-np.inf, 1.0]),
    "logsumexp of all -inf": (lambda m, x: m.logsumexp(x, 0), [-np.inf, -np.inf]),
    "sigmoid at ±800": (lambda m, x: x.sigmoid(), [-800.0, 800.0]),
    "tanh at ±800": (lambda m, x: x.tanh(), [-800.0, 800.0]),
    "exp at -800": (lambda m, x: x.exp(), [-800.0, 1.0]),
    "amax with inf": (lambda m, x: x.amax(), [np.inf, 1.0]),
    "prod with two zeros": (lambda m, x: m.cat([x, x]).prod(), [0.0, 3.0]),
    "max of equal values": (lambda m, x: m.stack([x, x * 1]).amax(0), [1.0, 2.0]),
}


@pytest.mark.parametrize("case", list(EDGES.values()), ids=list(EDGES))
def test_edge_values_and_gradients_match_torch(case, torch) -> None:  # noqa: ANN001
    """Zeros, infinities and ties, where naive formulas give nan: value and gradient as torch."""
    f, values = case
    x = cr.tensor(np.array(values), requires_grad=True)
    t = torch.tensor(np.array(values), requires_grad=True)
    with np.errstate(all="ignore"):
        y = f(cr, x)
        (g,) = cr.grad(y.sum(), x, allow_unused=True)
    ty = f(torch, t)
    (tg,) = torch.autograd.grad(ty.sum(), t, allow_unused=True)
    np.testing.assert_allclose(y.data, ty.detach().numpy())
    expected = np.zeros(len(values)) if tg is None else tg.numpy(force=True)
    np.testing.assert_allclose(np.zeros(len(values)) if g is None else g.data, expected)
