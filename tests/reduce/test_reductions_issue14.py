"""Behaviour of the issue-14 reductions, order statistics, scans and counting ops beyond the parity
registry: keyword forms, errors, edge cases (NaN, zeros, 0-d), expectations computed by torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


def _t(a, **kw):
    return cr.tensor(np.asarray(a, dtype=np.float64), **kw)


def _close(ours, theirs):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-7, atol=1e-10)


def test_all_any_dim_tuple_keepdim_and_uint8():
    x = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]])
    for fn in ("all", "any"):
        for dim in (None, 0, -1, (0, 1)):
            th = getattr(torch, fn)(torch.tensor(x), dim=dim, keepdim=True) if dim is not None else None
            ours = getattr(cr, fn)(_t(x), dim=dim, keepdim=True) if dim is not None else None
            if th is not None:
                assert ours.data.tolist() == th.tolist() and ours.dtype == np.bool_
    u = cr.tensor(np.array([1, 2], dtype=np.uint8))
    assert (
        cr.all(u).dtype == np.uint8
        and torch.all(torch.tensor([1, 2], dtype=torch.uint8)).dtype == torch.uint8
    )


def test_dtype_keywords_and_int_promotion():
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    assert cr.prod(cr.tensor(x)).dtype == np.int64
    assert cr.cumsum(cr.tensor(x), 0).dtype == np.int64
    assert cr.cumprod(cr.tensor(x), 1, dtype=cr.float64).dtype == np.float64
    assert (
        cr.mean(cr.tensor(x), dtype=cr.float32).item()
        == torch.mean(torch.tensor(x), dtype=torch.float32).item()
    )


def test_norm_fro_and_nuc():
    x = np.random.default_rng(0).normal(size=(3, 4))
    _close(cr.norm(_t(x), "fro", (0, 1)), torch.norm(torch.tensor(x), "fro", (0, 1)))
    _close(cr.norm(_t(x), "nuc"), torch.norm(torch.tensor(x), "nuc"))
    b = np.random.default_rng(1).normal(size=(2, 3, 4))
    xb, tb = cr.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    cr.norm(xb, "nuc", (1, 2), keepdim=True).sum().backward()
    torch.norm(tb, "nuc", (1, 2), keepdim=True).sum().backward()
    _close(xb.grad, tb.grad)


def test_take_along_dim_without_dim_flattens():
    x = np.arange(6.0).reshape(2, 3)
    idx = np.array([[5, 0]])
    th = torch.take_along_dim(torch.tensor(x), torch.tensor(idx))
    assert cr.take_along_dim(_t(x), cr.tensor(idx)).data.tolist() == th.tolist()


def test_median_gradient_shared_and_nan():
    x = np.array([1.0, 2.0, 2.0, 3.0, 2.0])
    ours, th = _t(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cr.median(ours).backward()
    torch.median(th).backward()
    _close(ours.grad, th.grad)
    n = np.array([[1.0, np.nan, 2.0], [4.0, 5.0, 6.0]])
    for fn in ("median", "nanmedian"):
        v, i = getattr(cr, fn)(_t(n), 1)
        tv, ti = getattr(torch, fn)(torch.tensor(n), 1)
        np.testing.assert_array_equal(v.data, tv.numpy())
        assert i.data.tolist() == ti.tolist()


def test_mode_ties_and_last_index():
    y = np.array([3.0, 1, 2, 1, 3, 2, 1, 3])
    v, i = cr.mode(_t(y))
    tv, ti = torch.mode(torch.tensor(y))
    assert (v.item(), i.item()) == (tv.item(), ti.item())


def test_kthvalue_errors_and_0d():
    with pytest.raises(RuntimeError, match="out of range"):
        cr.kthvalue(_t([1.0, 2.0]), 3)
    v, i = cr.kthvalue(_t(5.0), 1)
    assert v.item() == 5.0 and i.item() == 0


def test_quantile_tensor_q_gradient_and_errors():
    x = np.random.default_rng(1).normal(size=(3, 5))
    q = np.array([0.1, 0.5, 0.93])
    xs, qs = _t(x, requires_grad=True), _t(q, requires_grad=True)
    txs, tqs = torch.tensor(x, requires_grad=True), torch.tensor(q, requires_grad=True)
    out, tout = cr.quantile(xs, qs, dim=1, keepdim=True), torch.quantile(txs, tqs, dim=1, keepdim=True)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(xs.grad, txs.grad)
    _close(qs.grad, tqs.grad)
    with pytest.raises(RuntimeError, match="range"):
        cr.quantile(_t(x), 1.5)
    with pytest.raises(ValueError, match="interpolation"):
        cr.quantile(_t(x), 0.5, interpolation="cubic")


def test_cumprod_gradient_through_zeros():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, 0.0, 5.0, 1.0]])
    ours, th = _t(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cr.grad(cr.cumprod(ours, 1).sum(), [ours], create_graph=True)
    (tg,) = torch.autograd.grad(torch.cumprod(th, 1).sum(), [th], create_graph=True)
    _close(g, tg)
    (gg,) = cr.grad((g * g).sum(), [ours])
    (tgg,) = torch.autograd.grad((tg * tg).sum(), [th])
    _close(gg, tgg)


def test_cummax_nan_and_logcumsumexp_no_underflow():
    x = np.array([1.0, 3.0, 3.0, np.nan, 5.0])
    v, i = cr.cummax(_t(x), 0)
    tv, ti = torch.cummax(torch.tensor(x), 0)
    np.testing.assert_array_equal(v.data, tv.numpy())
    assert i.data.tolist() == ti.tolist()
    y = np.array([-1000.0, 0.0, 1.0])
    _close(cr.logcumsumexp(_t(y), 0), torch.logcumsumexp(torch.tensor(y), 0))


def test_nan_reductions_and_var_mean_overloads():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, np.nan]])
    _close(cr.nansum(_t(x), 1), torch.nansum(torch.tensor(x), 1))
    _close(cr.nanmean(_t(x), 0), torch.nanmean(torch.tensor(x), 0))
    z = np.random.default_rng(2).normal(size=(3, 4))
    for ours, th in zip(cr.var_mean(_t(z), False), torch.var_mean(torch.tensor(z), False)):
        _close(ours, th)
    for ours, th in zip(
        cr.std_mean(_t(z), 1, correction=0), torch.std_mean(torch.tensor(z), 1, correction=0)
    ):
        _close(ours, th)


def test_diff_prepend_append_and_bool():
    x = np.arange(6.0).reshape(2, 3) ** 2
    th = torch.diff(
        torch.tensor(x), 2, 1, prepend=torch.zeros(2, 1), append=torch.ones(2, 2, dtype=torch.float64)
    )
    _close(cr.diff(_t(x), 2, 1, prepend=_t(np.zeros((2, 1))), append=_t(np.ones((2, 2)))), th)
    b = np.array([True, False, False])
    assert cr.diff(cr.tensor(b)).data.tolist() == torch.diff(torch.tensor(b)).tolist()
    with pytest.raises(RuntimeError, match="one-dimensional"):
        cr.diff(_t(1.0))


def test_trapezoid_with_x_and_cov_weights():
    y = np.random.default_rng(3).normal(size=(2, 5))
    x = np.array([0.0, 0.5, 1.5, 1.6, 3.0])
    _close(cr.trapezoid(_t(y), _t(x)), torch.trapezoid(torch.tensor(y), torch.tensor(x)))
    _close(cr.trapz(_t(y), dx=0.3), torch.trapz(torch.tensor(y), dx=0.3))
    _close(
        cr.cumulative_trapezoid(_t(y), _t(x)), torch.cumulative_trapezoid(torch.tensor(y), torch.tensor(x))
    )
    fw, aw = np.array([1, 2, 1, 3, 1]), np.array([0.5, 1.0, 2.0, 1.0, 0.1])
    th = torch.cov(torch.tensor(y), fweights=torch.tensor(fw), aweights=torch.tensor(aw))
    _close(cr.cov(_t(y), fweights=cr.tensor(fw), aweights=_t(aw)), th)
    _close(cr.corrcoef(_t(y)), torch.corrcoef(torch.tensor(y)))


def test_renorm_and_dist():
    x = np.random.default_rng(4).normal(size=(3, 4))
    _close(cr.renorm(_t(x), 2, 0, 1.0), torch.renorm(torch.tensor(x), 2, 0, 1.0))
    _close(cr.dist(_t(x), _t(x[:1]), 3), torch.dist(torch.tensor(x), torch.tensor(x[:1]), 3))
    with pytest.raises(RuntimeError, match="2 dimensions"):
        cr.renorm(_t([1.0, 2.0]), 2, 0, 1.0)


def test_unique_and_unique_consecutive():
    x = np.array([[1, 2], [1, 2], [0, 5], [1, 2]])
    for dim in (None, 0, 1):
        ours = cr.unique(cr.tensor(x), return_inverse=True, return_counts=True, dim=dim)
        th = torch.unique(torch.tensor(x), return_inverse=True, return_counts=True, dim=dim)
        for a, e in zip(ours, th):
            assert a.data.tolist() == e.tolist()
        ours = cr.unique_consecutive(cr.tensor(x), return_inverse=True, return_counts=True, dim=dim)
        th = torch.unique_consecutive(torch.tensor(x), return_inverse=True, return_counts=True, dim=dim)
        for a, e in zip(ours, th):
            assert a.data.tolist() == e.tolist()


def test_bincount_and_histc():
    x = np.array([0, 3, 3, 1])
    w = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)
    assert (
        cr.bincount(cr.tensor(x), minlength=6).data.tolist()
        == torch.bincount(torch.tensor(x), minlength=6).tolist()
    )
    ours, th = cr.bincount(cr.tensor(x), cr.tensor(w)), torch.bincount(torch.tensor(x), torch.tensor(w))
    assert ours.data.tolist() == th.tolist() and ours.dtype == np.float32
    with pytest.raises(RuntimeError, match="non-negative"):
        cr.bincount(cr.tensor(np.array([-1, 2])))
    v = np.random.default_rng(5).normal(size=50).astype(np.float32)
    for args in ((10,), (7, -1.0, 1.0), (4, 0.0, 0.0)):
        assert cr.histc(cr.tensor(v), *args).data.tolist() == torch.histc(torch.tensor(v), *args).tolist()


def test_onnx_export_names_an_unconverted_op(tmp_path):
    from chainrule.onnx import export  # noqa: PLC0415

    class M(cr.nn.Module):
        def forward(self, x):
            return cr.cumprod(x, 0)

    with pytest.raises(NotImplementedError, match="CumProd"):
        export(M(), (cr.tensor(np.ones((2, 3), dtype=np.float32)),), tmp_path / "m.onnx")
