"""Every generated in-place method (``chainrule.ops.inplace.INPLACE_METHODS``) against torch: the values,
the same object back, the version bump, a view seeing the change, gradients through a recorded in-place op
on a non-leaf, the refusal on a leaf that requires grad, and torch's cast rule on integer tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.inplace import FUNCTIONS, INPLACE_METHODS

rng = np.random.default_rng(0)


def _u(*shape: int, lo: float = 0.1, hi: float = 0.9) -> np.ndarray:
    return rng.uniform(lo, hi, size=shape)


# name -> (x's values, the other arguments as NumPy arrays or Python numbers)
_BINARY = (
    "atan2 copysign eq ge gt le lt ne floor_divide fmod heaviside hypot ldexp logical_and logical_or "
    "logical_xor nextafter remainder true_divide xlogy float_power"
).split()
CASES: dict[str, Callable[[], tuple[np.ndarray, tuple]]] = {
    **{f"{n}_": (lambda: (_u(3, 4), (_u(3, 4),))) for n in _BINARY},
    "acosh_": lambda: (_u(3, 4, lo=1.1, hi=3.0), ()),
    "arccosh_": lambda: (_u(3, 4, lo=1.1, hi=3.0), ()),
    "clamp_max_": lambda: (_u(3, 4), (0.5,)),
    "clamp_min_": lambda: (_u(3, 4), (0.5,)),
    "clip_": lambda: (_u(3, 4), (0.3, 0.6)),
    "cumsum_": lambda: (_u(3, 4), (1,)),
    "cumprod_": lambda: (_u(3, 4), (0,)),
    "polygamma_": lambda: (_u(3, 4), (1,)),
    "mvlgamma_": lambda: (_u(3, 4, lo=1.1, hi=3.0), (2,)),
    "renorm_": lambda: (_u(3, 4), (2, 0, 1.0)),
    "masked_fill_": lambda: (_u(3, 4), (_u(3, 4) > 0.5, 0.25)),
    "lerp_": lambda: (_u(3, 4), (_u(3, 4), 0.3)),
    "addcdiv_": lambda: (_u(3, 4), (_u(3, 4), _u(3, 4))),
    "addcmul_": lambda: (_u(3, 4), (_u(3, 4), _u(3, 4))),
    "addmm_": lambda: (_u(3, 4), (_u(3, 2), _u(2, 4))),
    "addmv_": lambda: (_u(3), (_u(3, 4), _u(4))),
    "addr_": lambda: (_u(3, 4), (_u(3), _u(4))),
    "addbmm_": lambda: (_u(3, 4), (_u(2, 3, 5), _u(2, 5, 4))),
    "baddbmm_": lambda: (_u(2, 3, 4), (_u(2, 3, 5), _u(2, 5, 4))),
    "squeeze_": lambda: (_u(3, 1, 4), (1,)),
    "unsqueeze_": lambda: (_u(3, 4), (0,)),
    "transpose_": lambda: (_u(3, 4), (0, 1)),
    "swapaxes_": lambda: (_u(3, 4), (0, 1)),
}
NAMES = sorted(INPLACE_METHODS)
CAST = r"result type \w+ can't be cast to the desired output type Long"
SHAPE_OPS = {"squeeze_", "unsqueeze_", "transpose_", "swapaxes_", "t_"}
NOT_DIFFERENTIABLE = {  # floor_divide: torch and chainrule both raise "derivative ... not implemented"
    f"{n}_" for n in "eq ge gt le lt ne logical_and logical_or logical_xor logical_not floor_divide".split()
}


def _case(name: str) -> tuple[np.ndarray, tuple]:
    return CASES.get(name, lambda: (_u(3, 4), ()))()


def _both(a: Any) -> tuple[Any, Any]:
    if isinstance(a, np.ndarray):
        return cr.tensor(a.copy()), torch.tensor(a.copy())
    return a, a


def _args(args: tuple) -> tuple[list, list]:
    pairs = [_both(a) for a in args]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_the_table_covers_every_torch_in_place_form_of_an_op_chainrule_has() -> None:
    missing = [
        n
        for n in dir(torch.Tensor)
        if n.endswith("_")
        and not n.startswith("_")
        and not hasattr(cr.Tensor, n)
        and hasattr(cr.Tensor, n[:-1])
    ]
    assert missing == []
    assert all(hasattr(torch, n) and hasattr(cr, n) for n in FUNCTIONS)


@pytest.mark.parametrize("name", NAMES)
def test_values_object_version_and_views_match_torch(name: str) -> None:
    x0, args = _case(name)
    ca, ta = _args(args)
    x, tx = cr.tensor(x0.copy()), torch.tensor(x0.copy())
    view, tview = x[:], tx[:]
    before = x._version
    out = getattr(x, name)(*ca)
    tout = getattr(tx, name)(*ta)
    assert out is x and tout is tx
    assert x._version > before
    assert tuple(x.shape) == tuple(tx.shape)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-8, atol=1e-12)
    if name not in SHAPE_OPS:
        np.testing.assert_allclose(view.numpy(), tview.numpy(), rtol=1e-8, atol=1e-12)
        assert np.shares_memory(view.data, x.data)


def _grad(t: torch.Tensor) -> np.ndarray:
    return t.grad.numpy(force=True)  # force: torch's ZeroTensor gradient (sgn_)


@pytest.mark.parametrize("name", sorted(set(NAMES) - NOT_DIFFERENTIABLE))
def test_gradient_through_a_recorded_in_place_op_on_a_non_leaf(name: str) -> None:
    x0, args = _case(name)
    ca, ta = _args(args)
    a = cr.tensor(x0.copy(), requires_grad=True)
    y = a * 1.0
    assert getattr(y, name)(*ca) is y
    w = rng.uniform(-1, 1, size=tuple(y.shape))
    (y * cr.tensor(w)).sum().backward()

    def torch_grad(in_place: bool) -> np.ndarray:
        leaf = torch.tensor(x0.copy(), requires_grad=True)
        t = leaf * 1.0
        t = getattr(t, name)(*ta) if in_place else getattr(torch.Tensor, INPLACE_METHODS[name])(t, *ta)
        (t * torch.tensor(w)).sum().backward()
        return _grad(leaf)

    try:
        expected = torch_grad(True)
    except (RuntimeError, NotImplementedError):  # torch lacks some in-place derivatives (acosh_, asinh_)
        try:
            expected = torch_grad(False)  # then its out-of-place form's
        except RuntimeError as exc:  # not differentiable in torch at all (floor_divide, heaviside)
            pytest.skip(f"torch: {exc}")
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-8, atol=1e-10)


LOGICAL = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_"}


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_logical_forms_refuse_a_leaf_that_requires_grad_where_torch_lets_them_write(name: str) -> None:
    """A deliberate difference (docs/promises.md): torch's logical_*_ skip the leaf check (their result is
    not differentiable) and overwrite a parameter; chainrule refuses, as for every other in-place op."""
    x0, args = _case(name)
    ca, ta = _args(args)
    getattr(torch.tensor(x0, requires_grad=True), name)(*ta)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(cr.tensor(x0, requires_grad=True), name)(*ca)


@pytest.mark.parametrize("name", sorted(set(NAMES) - LOGICAL))
def test_a_leaf_that_requires_grad_is_refused(name: str) -> None:
    x0, args = _case(name)
    ca, ta = _args(args)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(torch.tensor(x0, requires_grad=True), name)(*ta)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(cr.tensor(x0, requires_grad=True), name)(*ca)


@pytest.mark.parametrize("name", sorted(set(NAMES) - SHAPE_OPS))
def test_integer_tensors_follow_torchs_cast_rule(name: str) -> None:
    x0, args = _case(name)
    x0 = np.round(x0 * 10).astype(np.int64) + 1
    ca, ta = _args(args)
    tx = torch.tensor(x0.copy())
    try:
        getattr(tx, name)(*ta)
    except RuntimeError as exc:
        if "can't be cast" not in str(exc):
            pytest.skip(f"torch refuses for another reason: {exc}")
        try:  # chainrule's out-of-place op may refuse integers itself (hypot, mvlgamma): then any refusal
            getattr(cr.Tensor, INPLACE_METHODS[name])(cr.tensor(x0.copy()), *ca)
        except (RuntimeError, TypeError, NotImplementedError):
            with pytest.raises((RuntimeError, TypeError, NotImplementedError)):
                getattr(cr.tensor(x0.copy()), name)(*ca)
            return
        with pytest.raises(RuntimeError, match=CAST):
            getattr(cr.tensor(x0.copy()), name)(*ca)
        return
    x = cr.tensor(x0.copy())
    getattr(x, name)(*ca)
    assert x.dtype == np.int64
    np.testing.assert_allclose(x.numpy(), tx.numpy())


def test_comparisons_into_a_float_tensor_store_zeros_and_ones() -> None:
    x = cr.tensor([1.0, 2.0, 3.0])
    assert x.lt_(cr.tensor([2.0, 2.0, 2.0])) is x
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), [1.0, 0.0, 0.0])


def test_a_result_of_another_shape_is_refused() -> None:
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match="shape"):
        cr.zeros(3).atan2_(cr.zeros(2, 3))


def test_float_power_needs_a_double_tensor_as_torch() -> None:
    with pytest.raises(RuntimeError, match="Double"):
        torch.ones(2).float_power_(2)
    with pytest.raises(RuntimeError, match="Double"):
        cr.ones(2).float_power_(2)


def test_top_level_spellings() -> None:
    for name in ("relu_", "sigmoid_", "tanh_", "exp_", "sqrt_"):
        x0 = _u(5)
        x, tx = cr.tensor(x0.copy()), torch.tensor(x0.copy())
        assert getattr(cr, name)(x) is x
        getattr(torch, name)(tx)
        np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)


F_CASES = [
    ("relu_", ()),
    ("elu_", (0.7,)),
    ("leaky_relu_", (0.2,)),
    ("hardtanh_", (-0.5, 0.5)),
    ("threshold_", (0.1, -3.0)),
    ("rrelu_", ()),
    ("celu_", (0.8,)),
    ("selu_", ()),
]


@pytest.mark.parametrize(("name", "args"), F_CASES)
def test_functional_in_place_spellings_and_inplace_true(name: str, args: tuple) -> None:
    x0 = rng.uniform(-2, 2, size=(4, 3))
    x, tx = cr.tensor(x0.copy()), torch.tensor(x0.copy())
    assert getattr(F, name)(x, *args) is x
    getattr(torch.nn.functional, name)(tx, *args)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12)
    base = name[:-1]
    y = cr.tensor(x0.copy())
    assert getattr(F, base)(y, *args, inplace=True) is y
    np.testing.assert_allclose(y.numpy(), tx.numpy(), rtol=1e-12)
    z = cr.tensor(x0.copy())
    assert getattr(F, base)(z, *args) is not z
    np.testing.assert_array_equal(z.numpy(), x0)


@pytest.mark.parametrize(
    "module", ["ReLU", "LeakyReLU", "ELU", "CELU", "SELU", "Hardtanh", "ReLU6", "SiLU", "Mish"]
)
def test_modules_with_inplace_true_write_into_their_input(module: str) -> None:
    x0 = rng.uniform(-2, 2, size=(4, 3))
    x, tx = cr.tensor(x0.copy()), torch.tensor(x0.copy())
    assert getattr(cr.nn, module)(inplace=True)(x) is x
    getattr(torch.nn, module)(inplace=True)(tx)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-12, atol=1e-15)
    a, ta = cr.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    getattr(cr.nn, module)(inplace=True)(a * 1).sum().backward()
    getattr(torch.nn, module)(inplace=True)(ta * 1).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    name=st.sampled_from(["exp_", "sigmoid_", "tanh_", "sqrt_", "neg_", "square_", "reciprocal_", "log1p_"]),
)
def test_unary_forms_on_any_shape(shape: list[int], name: str) -> None:
    x0 = _u(*shape)
    a, ta = cr.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    y, ty = a * 2, ta * 2
    assert getattr(y, name)() is y
    getattr(ty, name)()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10)


def test_chained_in_place_ops_and_a_changed_saved_output() -> None:
    x0 = _u(3, 4)
    a, ta = cr.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    y, ty = a * 2.0, ta * 2.0
    y.mul_(3.0).sin_().square_().t_()
    ty.mul_(3.0).sin_().square_().t_()
    assert tuple(y.shape) == tuple(ty.shape)
    w = rng.uniform(-1, 1, size=tuple(ty.shape))
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
    b, tb = cr.tensor(x0.copy(), requires_grad=True), torch.tensor(x0.copy(), requires_grad=True)
    z, tz = b.exp(), tb.exp()  # exp saves its output: torch refuses backward after changing it in place
    z.tanh_()
    tz.tanh_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.sum().backward()
    z.sum().backward()  # chainrule kept the old output (index._snapshot): the out-of-place gradient
    tb.grad = None
    tb.exp().tanh().sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-10)


def test_a_view_of_a_graph_tensor_is_refused_and_views_see_shape_changes() -> None:
    a = cr.tensor(_u(3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="view"):
        (a * 1.0)[0].exp_()
    x = cr.tensor(_u(3, 4))
    v = x.view(12)
    x.t_()
    x[0, 1] = 9.0  # x is the transpose: [0, 1] is the old [1, 0]
    assert v[4].item() == 9.0 and tuple(x.shape) == (4, 3)


@pytest.mark.parametrize(
    "module", ["Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
)
def test_dropout_modules_with_inplace_true_write_into_their_input(module: str) -> None:
    x = cr.ones(2, 3, 4, 5)
    layer = getattr(cr.nn, module)(0.5, inplace=True)
    assert layer(x) is x and x._version == 1
    kept = x.numpy() != 1.0
    assert kept.any()  # the mask was applied to x itself
    a = cr.ones(2, 3, 4, 5, requires_grad=True)
    y = a * 1.0
    assert layer(y) is y
    y.sum().backward()
    assert a.grad is not None and a.grad.shape == a.shape
    assert torch.nn.Dropout(0.5, inplace=True)(torch.ones(3)).shape == (3,)  # torch's spelling exists
