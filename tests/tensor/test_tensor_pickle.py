"""Pickling and copying tensors as torch does: pickle and copy.copy keep data and requires_grad (never the
graph), deepcopy copies a leaf and refuses a non-leaf with torch's RuntimeError, however deep the graph."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr


def _chain(depth: int) -> tuple[cr.Tensor, cr.Tensor]:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(depth):
        y = y + 1.0
    return x, y


def test_pickling_a_non_leaf_gives_a_leaf_with_its_data_as_torch(torch) -> None:
    """Before: TypeError "cannot pickle 'weakref.ReferenceType' object"."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    back = pickle.loads(pickle.dumps(y))
    tx = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    tback = pickle.loads(pickle.dumps(tx * 2))
    assert back.is_leaf and tback.is_leaf
    assert back.requires_grad == tback.requires_grad is True
    assert back.grad_fn is None and tback.grad_fn is None
    np.testing.assert_array_equal(back.data, tback.detach().numpy())
    assert back.dtype == np.float32


@pytest.mark.parametrize("depth", [10, 10_000])
def test_a_deep_graph_pickles_without_recursing(depth: int) -> None:
    _, y = _chain(depth)
    back = pickle.loads(pickle.dumps(y))
    np.testing.assert_array_equal(back.data, [1.0 + depth, 2.0 + depth])


def test_pickling_a_leaf_keeps_dtype_name_and_class_not_the_grad(torch) -> None:
    x = cr.tensor([1, 2, 3])
    assert pickle.loads(pickle.dumps(x)).dtype == np.int64
    w = cr.tensor([1.0], requires_grad=True, name="w")
    (w * 3).sum().backward()
    back = pickle.loads(pickle.dumps(w))
    assert back.name == "w" and back.requires_grad
    tw = torch.tensor([1.0], requires_grad=True)
    (tw * 3).sum().backward()
    assert pickle.loads(pickle.dumps(tw)).grad is None and back.grad is None  # torch drops .grad too
    v = pickle.loads(pickle.dumps(cr.Variable(np.array([1.0]))))
    assert type(v) is cr.Variable and v.requires_grad
    p = pickle.loads(pickle.dumps(cr.nn.Parameter(cr.ones(2))))
    assert type(p) is cr.nn.Parameter


@pytest.mark.parametrize("depth", [1, 10_000])
def test_deepcopy_of_a_non_leaf_raises_torchs_runtime_error(torch, depth: int) -> None:
    """Before: a 10^4-deep graph hit the recursion limit (and a shallow one copied the whole graph)."""
    _, y = _chain(depth)
    with pytest.raises(RuntimeError) as expected:
        copy.deepcopy(torch.tensor([1.0], requires_grad=True) + 1.0)
    with pytest.raises(RuntimeError) as got:
        copy.deepcopy(y)
    assert str(got.value).startswith(
        str(expected.value).split(".")[0]
    )  # "Only Tensors created explicitly..."


def test_deepcopy_of_a_leaf_copies_data_and_grad(torch) -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    c = copy.deepcopy(w)
    assert c is not w and c.requires_grad and c.is_leaf
    np.testing.assert_array_equal(c.grad.data, [2.0, 4.0])  # torch keeps a leaf's .grad in deepcopy too
    c.data[0] = 9.0
    c.grad.data[0] = 9.0
    assert w.data[0] == 1.0 and w.grad.data[0] == 2.0
    pair = [w, w]
    twins = copy.deepcopy(pair)
    assert twins[0] is twins[1]  # the memo is honoured
    with cr.no_grad():
        z = w * 2  # made without recording: a leaf, so it copies
    assert copy.deepcopy(z).is_leaf


def test_modules_still_deepcopy_and_copy_copy_shares_memory_as_torch(torch) -> None:
    model = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.BatchNorm1d(3))
    model(cr.randn(4, 2))  # running stats updated
    twin = copy.deepcopy(model)
    for (name, a), (_, b) in zip(model.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
        assert not np.shares_memory(a.data, b.data)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    shallow = copy.copy(y)
    assert shallow.is_leaf and shallow.requires_grad and np.shares_memory(shallow.data, y.data)
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    assert copy.copy(t).is_leaf and copy.copy(t).data_ptr() == t.data_ptr()
