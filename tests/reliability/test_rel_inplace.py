"""Saved-tensor safety: in-place ops bump a version counter shared by views, and backward never silently
uses a changed value. Each program runs in both libraries; the outcome is asserted against torch's."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

MODIFIED = "modified by an inplace operation"


class Lib:
    """The few names the programs below need, for chainrule or torch (float64)."""

    def __init__(self, mod: Any) -> None:
        self.mod = mod
        self.is_torch = mod is not cr

    def T(self, data: Any, requires_grad: bool = False) -> Any:
        if self.is_torch:
            return self.mod.tensor(data, dtype=self.mod.float64, requires_grad=requires_grad)
        return cr.tensor(data, dtype="float64", requires_grad=requires_grad)

    def no_grad(self) -> contextlib.AbstractContextManager:
        return self.mod.no_grad()

    def numpy(self, t: Any) -> np.ndarray:
        return t.detach().numpy() if self.is_torch else np.array(t.data)


def _x(L: Lib) -> Any:
    return L.T([[0.5, -1.0], [2.0, 0.25]], True)


# --- programs: each returns the leaf x after a backward (or raises) ---------------------------------------
def saved_input_mul(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a * a  # Mul saves a
    a.add_(1)
    y.sum().backward()
    return x


def saved_input_exp_backward_reads_output(L: Lib) -> Any:
    x = _x(L)
    y = x.exp()
    with L.no_grad():
        y.mul_(2)  # Exp's saved output changes behind its back
    y.sum().backward()
    return x


def saved_input_through_reshape_view(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a * a
    with L.no_grad():
        a.reshape(4).zero_()  # a view shares a's version counter
    y.sum().backward()
    return x


def saved_input_through_transpose_view(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a.sin()
    with L.no_grad():
        a.T.fill_(3.0)
    y.sum().backward()
    return x


def saved_input_through_slice_view(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = (a * a).sum()
    with L.no_grad():
        a[0].mul_(3.0)
    y.backward()
    return x


def saved_input_setitem(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a * a
    a[0, 0] = 7.0
    y.sum().backward()
    return x


def saved_input_matmul_sub(L: Lib) -> Any:
    x = _x(L)
    w = x * 2
    y = x @ w
    w.sub_(1)
    y.sum().backward()
    return x


def saved_input_div_clamp(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = 1 / (a * a + 1)
    a.clamp_(0, 1)
    y.sum().backward()
    return x


def saved_input_copy(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a * x
    a.copy_(L.T([[1.0, 2.0], [3.0, 4.0]]))
    y.sum().backward()
    return x


def leaf_changed_in_no_grad_after_use(L: Lib) -> Any:
    x = _x(L)
    y = (x * x).sum()
    with L.no_grad():
        x.div_(2)
    y.backward()
    return x


RAISES = [
    saved_input_mul,
    saved_input_exp_backward_reads_output,
    saved_input_through_reshape_view,
    saved_input_through_transpose_view,
    saved_input_through_slice_view,
    saved_input_setitem,
    saved_input_matmul_sub,
    saved_input_div_clamp,
    saved_input_copy,
    leaf_changed_in_no_grad_after_use,
]


@pytest.mark.parametrize("program", RAISES, ids=lambda f: f.__name__)
def test_backward_through_a_changed_saved_tensor_raises_like_torch(program: Callable, torch) -> None:
    with pytest.raises(RuntimeError, match=MODIFIED):
        program(Lib(torch))
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        program(Lib(cr))
    msg = str(info.value)
    assert "expected version" in msg and "clone()" in msg  # says what changed and how to avoid it


# --- programs both libraries accept; gradients must agree -------------------------------------------------
def output_of_add_changed(L: Lib) -> Any:
    x = _x(L)
    y = x + 1  # Add saves nothing
    y.mul_(2)
    y.sum().backward()
    return x


def chain_of_in_place_ops(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    a.div_(2)
    a.sub_(1)
    a.mul_(x)
    a.add_(x, alpha=0.5)
    a.sub_(x, alpha=2.0)
    a.clamp_(min=-0.2)
    (a * a).sum().backward()
    return x


def in_place_after_backward(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    y = a.exp()
    y.sum().backward()
    a.add_(1)
    return x


def leaf_changed_in_no_grad_then_new_graph(L: Lib) -> Any:
    x = _x(L)
    with L.no_grad():
        x.add_(1)
        x[0, 1] = 3.0
        x.mul_(2)
        x.clamp_(-1, 5)
        x.sub_(0.5)
        x.div_(3)
    (x * x.exp()).sum().backward()
    return x


def setitem_on_non_leaf_with_grad_value(L: Lib) -> Any:
    x = _x(L)
    a = x * 2
    a[1] = x[0] * 3
    (a * a).sum().backward()
    return x


def fill_and_copy_on_non_leaf(L: Lib) -> Any:
    x = _x(L)
    a = x * 2
    b = x * 1
    a.fill_(5.0)
    b.copy_(x[0].exp())
    (a * x + b).sum().backward()
    return x


def in_place_through_view_in_no_grad_then_use(L: Lib) -> Any:
    x = _x(L)
    with L.no_grad():
        x[:, 0].mul_(0.5)
    (x**3).sum().backward()
    return x


def in_place_with_inf_fill(L: Lib) -> Any:
    x = _x(L)
    a = x.log()  # x has a negative entry: nan there
    a.fill_(1.0)  # fill_ must not leak the nan into the value or the gradient
    (a * x).sum().backward()
    return x


AGREE = [
    output_of_add_changed,
    chain_of_in_place_ops,
    in_place_after_backward,
    leaf_changed_in_no_grad_then_new_graph,
    setitem_on_non_leaf_with_grad_value,
    fill_and_copy_on_non_leaf,
    in_place_through_view_in_no_grad_then_use,
    in_place_with_inf_fill,
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("program", AGREE, ids=lambda f: f.__name__)
def test_accepted_programs_match_torch(program: Callable, torch) -> None:
    xt, xc = program(Lib(torch)), program(Lib(cr))
    np.testing.assert_allclose(xc.data, xt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


# --- where chainrule differs from torch, it is never silently wrong ---------------------------------------
def changed_output_of_exp_in_graph(L: Lib) -> Any:
    """torch raises; chainrule's recorded in-place op keeps Exp's output (a copy): the gradient is exact."""
    x = _x(L)
    y = x.exp()
    y.add_(1)
    (y * y).sum().backward()
    return x


def changed_output_of_sigmoid_by_setitem(L: Lib) -> Any:
    x = _x(L)
    y = x.sigmoid()
    y[0] = 5.0
    y.sum().backward()
    return x


def _clone_first(program: Callable) -> Callable:
    """The same program with ``clone()`` before the in-place op: what the user meant, and torch accepts it."""

    def cloned(L: Lib) -> Any:
        x = _x(L)
        if program is changed_output_of_exp_in_graph:
            y = x.exp().clone()
            y.add_(1)
            (y * y).sum().backward()
        else:
            y = x.sigmoid().clone()
            y[0] = 5.0
            y.sum().backward()
        return x

    return cloned


@pytest.mark.parametrize("program", [changed_output_of_exp_in_graph, changed_output_of_sigmoid_by_setitem])
def test_changed_outputs_give_the_exact_gradient(program: Callable, torch) -> None:
    with pytest.raises(RuntimeError, match=MODIFIED):
        program(Lib(torch))
    xc = program(Lib(cr))
    xt = _clone_first(program)(Lib(torch))
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-12)


def stale_non_saving_consumer(L: Lib) -> Any:
    """torch routes b's gradient to a's old value; so does chainrule (it records the value mul_ replaced)."""
    x = _x(L)
    a = x * 1
    b = a + 1
    a.mul_(3)
    b.sum().backward()
    return x


def stale_view_consumer(L: Lib) -> Any:
    x = _x(L)
    a = x * 1
    b = a[0]
    a.mul_(3)
    b.sum().backward()
    return x


def test_a_stale_consumer_that_saves_nothing_gets_torchs_gradient(torch) -> None:
    ours, theirs = stale_non_saving_consumer(Lib(cr)), stale_non_saving_consumer(Lib(torch))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("program", [stale_view_consumer])
def test_stale_consumers_of_a_rebound_tensor_raise(program: Callable, torch) -> None:
    program(Lib(torch))  # torch accepts these
    with pytest.raises(RuntimeError, match=MODIFIED):
        program(Lib(cr))


def test_in_place_on_a_view_in_a_graph_is_refused(torch) -> None:
    # torch rewrites the base's graph (CopySlices); chainrule refuses rather than give a wrong gradient.
    for make_view in (lambda a: a[0], lambda a: a.reshape(4), lambda a: a.T):
        x = _x(Lib(cr))
        a = x * 1
        with pytest.raises(RuntimeError, match="view"):
            make_view(a).mul_(3)


# --- version counters -------------------------------------------------------------------------------------
def test_versions_count_every_in_place_op_and_views_share_them(torch) -> None:
    for L in (Lib(torch), Lib(cr)):
        x = L.T([[1.0, 2.0], [3.0, 4.0]])
        views = [x.reshape(4), x.T, x[0], x[:, 1:], x.transpose(0, 1)]
        assert x._version == 0
        x.add_(1)
        x.sub_(1)
        x.mul_(2)
        x.div_(2)
        x.clamp_(0, 10)
        x.fill_(1.0)
        x.zero_()
        x.copy_(L.T([[5.0, 6.0], [7.0, 8.0]]))
        x[0, 0] = 9.0
        assert x._version == 9
        assert [v._version for v in views] == [9] * len(views)
        views[2].add_(1)  # writes through a view bump the base too
        assert x._version == 10
        assert L.numpy(x)[0, 0] == 10.0
        assert L.numpy(views[0])[0] == 10.0  # and every view sees the memory change
        assert x.clone()._version == 0  # a clone has its own counter
        y = x + 1
        assert y._version == 0


def test_views_see_recorded_in_place_writes(torch) -> None:
    outs = []
    for L in (Lib(torch), Lib(cr)):
        x = _x(L)
        a = x * 1
        v = a[0]
        a.add_(1)
        outs.append(L.numpy(v))
    np.testing.assert_array_equal(outs[1], outs[0])


def test_out_of_place_ops_never_raise(torch) -> None:
    x = _x(Lib(cr))
    a = x * 1
    y = (a * a).exp()
    a = a + 1  # rebinding the name is not an in-place change
    (y.sum() + a.sum()).backward()
    assert x.grad is not None


# --- leaves -----------------------------------------------------------------------------------------------
LEAF_OPS = {
    "add_": lambda x: x.add_(1),
    "sub_": lambda x: x.sub_(1),
    "mul_": lambda x: x.mul_(2),
    "div_": lambda x: x.div_(2),
    "zero_": lambda x: x.zero_(),
    "fill_": lambda x: x.fill_(1.0),
    "copy_": lambda x: x.copy_(x.detach() * 2),
    "clamp_": lambda x: x.clamp_(0, 1),
    "__setitem__": lambda x: x.__setitem__(0, 1.0),
}


@pytest.mark.parametrize("name", list(LEAF_OPS))
def test_in_place_on_a_leaf_that_requires_grad(name: str, torch) -> None:
    op = LEAF_OPS[name]
    for L in (Lib(torch), Lib(cr)):
        x = L.T([0.5, 2.0], True)
        with pytest.raises(RuntimeError, match="leaf"):
            op(x)
        assert x._version == 0 and L.numpy(x).tolist() == [0.5, 2.0]  # refused before touching anything
    xs = []
    for L in (Lib(torch), Lib(cr)):
        x = L.T([0.5, 2.0], True)
        with L.no_grad():
            op(x)  # allowed in no_grad (that is how optimizers update parameters)
        assert x._version == 1 and x.requires_grad and x.grad is None
        (x * x).sum().backward()
        xs.append((L.numpy(x), L.numpy(x.grad)))
    np.testing.assert_allclose(xs[1][0], xs[0][0])
    np.testing.assert_allclose(xs[1][1], xs[0][1])


def test_in_place_on_an_expanded_tensor_is_refused_clearly() -> None:
    x = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    e = (x * 1).expand(3, 2)
    with pytest.raises((RuntimeError, ValueError), match=r"read-only|clone"):
        e.add_(1)


def test_integer_tensor_cannot_take_a_result_that_requires_grad(torch) -> None:
    w = cr.tensor([1.5, 2.5], requires_grad=True)
    i = cr.tensor([1, 2])
    with pytest.raises((TypeError, RuntimeError), match=r"int64|dtype|Long"):
        i.add_(w)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).add_(torch.tensor([1.5, 2.5], requires_grad=True))


# ---------------------------------------------------------------- every writer of a version counter is seen
# Backprop skips a function's version check when no tensor anywhere changed in place since it was recorded
# (chainrule.tensor._mutations). So every way of changing a saved tensor in place must count as a change.
def _no_grad(op: Callable) -> Callable:
    def run(w: cr.Tensor) -> None:
        with cr.no_grad():
            op(w)

    return run


def _sgd_step(w: cr.Tensor) -> None:
    w.grad = cr.ones_like(w)
    cr.optim.SGD([w], lr=0.1).step()


def _adam_step(w: cr.Tensor) -> None:
    w.grad = cr.ones_like(w)
    cr.optim.Adam([w], lr=0.1).step()


def _load_state_dict(w: cr.Tensor) -> None:
    layer = cr.nn.Linear(3, 2, bias=False)
    layer.weight = cr.nn.Parameter(w.data)  # shares w's memory...
    layer.weight._vbox = w._version_box()  # ...and, like a view, its version counter
    layer.load_state_dict({"weight": np.zeros((2, 3))})


def _vector_to_parameters(w: cr.Tensor) -> None:
    cr.nn.utils.vector_to_parameters(cr.zeros(w.numel(), dtype=w.dtype), [w])


WRITERS = {
    "add_": _no_grad(lambda w: w.add_(1.0)),
    "mul_": _no_grad(lambda w: w.mul_(2.0)),
    "setitem": _no_grad(lambda w: w.__setitem__((0, 0), 5.0)),
    "copy_": _no_grad(lambda w: w.copy_(cr.zeros_like(w))),
    "zero_": _no_grad(lambda w: w.zero_()),
    "sgd step": _sgd_step,
    "adam step": _adam_step,
    "nn.init.normal_": lambda w: cr.nn.init.normal_(w),
    "nn.init.zeros_": lambda w: cr.nn.init.zeros_(w),
    "load_state_dict": _load_state_dict,
    "vector_to_parameters": _vector_to_parameters,
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_in_place_writer_is_caught_by_backward(writer: str) -> None:
    w = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = cr.tensor(np.ones((3, 4)))
    y = (w @ x).sum()  # MatMul saves w: its backward reads w's values
    WRITERS[writer](w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_a_change_elsewhere_only_costs_the_full_check() -> None:
    """An in-place change of a tensor outside the graph makes backprop check, find nothing, and go on."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    other = cr.tensor([0.0, 0.0])
    other.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])
