"""Indexing, scatter and search ops (issue 14) beyond the parity registry: in-place forms, keyword forms,
0-d and empty inputs, search ops, errors with clear messages, ONNX. Expectations come from torch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _cr(t):
    out = cr.from_numpy(t.detach().numpy().copy())
    return out.requires_grad_() if t.requires_grad else out


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a.data if isinstance(a, cr.Tensor) else a), b.detach().numpy())


def _pair(*shape, grad=True):
    t = torch.randn(tuple(shape), dtype=torch.float64, requires_grad=grad)
    return t, _cr(t)


# ---------------------------------------------------------------------------- in-place forms
INPLACE = [
    ("scatter_", lambda x, s, i: x.scatter_(1, i, s)),
    ("scatter_value", lambda x, s, i: x.scatter_(1, i, 2.5)),
    ("scatter_add_", lambda x, s, i: x.scatter_add_(1, i, s)),
    ("scatter_reduce_amax", lambda x, s, i: x.scatter_reduce_(1, i, s, "amax", include_self=False)),
    ("scatter_reduce_prod", lambda x, s, i: x.scatter_reduce_(1, i, s, "prod")),
    ("index_copy_", lambda x, s, i: x.index_copy_(1, i[0, :2], s[:, :2])),
    ("index_fill_", lambda x, s, i: x.index_fill_(1, i[0], -1.0)),
    ("index_reduce_", lambda x, s, i: x.index_reduce_(1, i[0, :2], s[:, :2], "mean")),
    ("put_", lambda x, s, i: x.put_(i[0, :2], s[0, :2], accumulate=True)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_in_place_forms_match_torch_values_grads_and_bump_the_version(name, op):
    torch.manual_seed(0)
    tx, cx = _pair(3, 4)
    ts, cs = _pair(3, 2)
    ti = torch.tensor([[0, 2], [1, 3], [3, 0]])
    ci = cr.tensor(ti.numpy())
    ty = tx * 2
    cy = cx * 2
    v = cy._version
    assert op(cy, cs, ci) is cy
    assert cy._version == v + 1
    op(ty, ts, ti)
    _close(cy, ty)
    ty.sum().backward()
    cy.sum().backward()
    _close(cx.grad, tx.grad)
    if ts.grad is not None:
        _close(cs.grad, ts.grad)


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = cr.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.scatter_(1, cr.tensor(np.array([[0], [1], [2]])), 1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.masked_scatter_(cr.tensor(np.ones((3, 4), bool)), cr.randn(12))


def test_in_place_without_grad_writes_through():
    x = cr.zeros(2, 3)
    x.put_(cr.tensor(np.array([0, 5])), cr.tensor(np.array([1.0, 2.0], np.float32)))
    x.masked_scatter_(cr.tensor(np.array([False, True, False])), cr.tensor(np.array([7.0, 8.0], np.float32)))
    assert x.data.tolist() == [[1.0, 7.0, 0.0], [0.0, 8.0, 2.0]]


# ---------------------------------------------------------------------------- gradients torch defines
def test_scatter_reduce_amax_splits_the_gradient_among_ties():
    tx = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64, requires_grad=True)
    ts = torch.tensor([3.0, 3.0, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    ti = torch.tensor([1, 1, 0, 2])
    cx, cs = _cr(tx), _cr(ts)
    w = torch.tensor([1.0, 6.0, 2.0], dtype=torch.float64)
    (tx.scatter_reduce(0, ti, ts, "amax") * w).sum().backward()
    (cx.scatter_reduce(0, cr.tensor(ti.numpy()), cs, "amax") * cr.tensor(w.numpy())).sum().backward()
    _close(cx.grad, tx.grad)  # x[1] and src[0], src[1] tie at 3: 2 each
    _close(cs.grad, ts.grad)


def test_scatter_reduce_prod_gradient_with_one_zero_in_a_group():
    tx = torch.tensor([2.0, 5.0], dtype=torch.float64, requires_grad=True)
    ts = torch.tensor([0.0, 3.0, 4.0], dtype=torch.float64, requires_grad=True)
    ti = torch.tensor([0, 0, 1])
    cx, cs = _cr(tx), _cr(ts)
    tx.scatter_reduce(0, ti, ts, "prod").sum().backward()
    cx.scatter_reduce(0, cr.tensor(ti.numpy()), cs, "prod").sum().backward()
    _close(cx.grad, tx.grad)
    _close(cs.grad, ts.grad)


# ---------------------------------------------------------------------------- 0-d and empty
def test_gather_and_index_select_on_0d():
    tx, cx = _pair()
    _close(cr.gather(cx, 0, cr.tensor(np.array(0))), torch.gather(tx, 0, torch.tensor(0)))
    _close(cx.index_select(0, cr.tensor(np.array([0]))), tx.index_select(0, torch.tensor([0])))
    v = torch.arange(4.0)
    got = cr.arange(4.0).index_select(0, cr.tensor(np.array(2)))
    assert got.shape == tuple(v.index_select(0, torch.tensor(2)).shape)
    assert cr.gather(cr.arange(3.0), 0, cr.tensor(np.zeros((2, 0), np.int64))).shape == (2, 0)


def test_index_add_on_0d():
    tx, cx = _pair()
    _close(
        cx.index_add(0, cr.tensor(np.array([0])), cr.tensor(np.float64(2.0))),
        tx.index_add(0, torch.tensor([0]), torch.tensor(2.0, dtype=torch.float64)),
    )


def test_take_along_dim_without_dim_reads_the_flattened_input():
    t = torch.arange(6.0).reshape(2, 3)
    i = torch.tensor([[0, 5]])
    _close(cr.take_along_dim(cr.arange(6.0).reshape(2, 3), cr.tensor(i.numpy())), torch.take_along_dim(t, i))


def test_masked_select_and_scatter_broadcast_and_empty():
    tx, cx = _pair(2, 3)
    m = torch.tensor([True, False, True])
    _close(cx.masked_select(cr.tensor(m.numpy())), tx.masked_select(m))
    src = torch.arange(6.0, dtype=torch.float64)
    _close(cx.masked_scatter(cr.tensor(m.numpy()), cr.tensor(src.numpy())), tx.masked_scatter(m, src))
    none = torch.zeros(3, dtype=torch.bool)
    empty = torch.zeros(0, dtype=torch.float64)
    _close(
        cx.masked_scatter(cr.tensor(none.numpy()), cr.tensor(empty.numpy())), tx.masked_scatter(none, empty)
    )


# ---------------------------------------------------------------------------- searches
def test_searchsorted_keywords():
    seq = torch.tensor([[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]])
    vals = torch.tensor([[3.0, 6.0], [1.0, 8.0]])
    cseq, cvals = cr.tensor(seq.numpy()), cr.tensor(vals.numpy())
    for kw in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        got, want = cr.searchsorted(cseq, cvals, **kw), torch.searchsorted(seq, vals, **kw)
        assert got.data.tolist() == want.tolist() and str(got.dtype) == str(want.dtype).split(".")[1]
    unsorted = torch.tensor([5.0, 1.0, 3.0])
    order = torch.argsort(unsorted)
    got = cr.searchsorted(
        cr.tensor(unsorted.numpy()), cr.tensor(np.array([2.0, 4.0])), sorter=cr.tensor(order.numpy())
    )
    assert got.data.tolist() == torch.searchsorted(unsorted, torch.tensor([2.0, 4.0]), sorter=order).tolist()
    assert cr.searchsorted(cr.tensor(np.array([1.0, 2.0], np.float32)), 1.5).shape == ()
    with pytest.raises(RuntimeError, match="side"):
        cr.searchsorted(cseq, cvals, right=True, side="left")


def test_bucketize_isin_argwhere_nonzero_unravel_index():
    b = torch.tensor([1.0, 3.0, 5.0])
    x = torch.tensor([[0.0, 1.0], [3.0, 6.0]])
    for right in (False, True):
        got = cr.bucketize(cr.tensor(x.numpy()), cr.tensor(b.numpy()), right=right)
        assert got.data.tolist() == torch.bucketize(x, b, right=right).tolist()
    e = torch.tensor([1, 2, 3, 4])
    for invert in (False, True):
        got = cr.isin(cr.tensor(e.numpy()), cr.tensor(np.array([2, 4])), invert=invert)
        assert got.data.tolist() == torch.isin(e, torch.tensor([2, 4]), invert=invert).tolist()
    assert cr.isin(cr.tensor(e.numpy()), 3).data.tolist() == torch.isin(e, 3).tolist()
    z = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert cr.argwhere(cr.tensor(z.numpy())).data.tolist() == torch.argwhere(z).tolist()
    rows, cols = cr.tensor(z.numpy()).nonzero(as_tuple=True)
    trows, tcols = z.nonzero(as_tuple=True)
    assert rows.data.tolist() == trows.tolist() and cols.data.tolist() == tcols.tolist()
    got = cr.unravel_index(cr.tensor(np.array([-1, 3, 4])), (2, 3))
    want = torch.unravel_index(torch.tensor([-1, 3, 4]), (2, 3))
    assert [g.data.tolist() for g in got] == [w.tolist() for w in want]


# ---------------------------------------------------------------------------- errors
def test_errors_name_the_argument():
    x = cr.randn(3, 4)
    i = cr.tensor(np.array([[0, 1]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        cr.scatter(x, 1, cr.tensor(np.array([[4]])), 1.0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        cr.gather(x, 0, cr.tensor(np.array([0])))
    with pytest.raises(RuntimeError, match="reduce argument"):
        cr.scatter_reduce(x, 1, i, cr.randn(1, 2), "max")
    with pytest.raises(RuntimeError, match="reduce argument"):
        cr.scatter(x, 1, i, cr.randn(1, 2), reduce="mean")
    with pytest.raises(RuntimeError, match="dtype"):
        cr.scatter_add(x, 1, cr.tensor(np.array([[0.5]])), cr.randn(1, 1))
    with pytest.raises(TypeError, match="out="):
        cr.gather(x, 1, i, out=x)
    with pytest.raises(RuntimeError, match="BoolTensor"):
        cr.masked_select(x, cr.tensor(np.ones((3, 4), np.int64)))
    with pytest.raises(RuntimeError, match="at least 12 elements"):
        cr.masked_scatter(x, cr.tensor(np.ones((3, 4), bool)), cr.randn(5))
    with pytest.raises(IndexError, match="out of range"):
        cr.take(x, cr.tensor(np.array([12])))
    with pytest.raises(RuntimeError, match="source"):
        cr.put(x, cr.tensor(np.array([0, 1])), cr.randn(3))
    with pytest.raises(RuntimeError, match="reduce argument"):
        cr.index_reduce(x, 0, cr.tensor(np.array([0])), cr.randn(1, 4), "sum")


def test_onnx_converts_gather_and_scatter_and_names_what_it_cannot():
    ort = pytest.importorskip("onnxruntime")
    from chainrule import nn  # noqa: PLC0415

    idx = cr.tensor(np.array([[0, 2], [1, 0], [3, 3]]))

    class M(nn.Module):
        def forward(self, x):
            return cr.scatter(x, 1, idx, cr.gather(x, 1, idx) * 2)

    class Bad(nn.Module):
        def forward(self, x):
            return cr.scatter_reduce(x, 1, idx, x[:, :2], "amax")

    x = cr.randn(3, 4)
    proto = cr.onnx.export(M(), x, None, dynamic_batch=False)
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.data})[0]
    np.testing.assert_allclose(got, M()(x).data, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="ScatterReduce"):
        cr.onnx.export(Bad(), x, None, dynamic_batch=False)
