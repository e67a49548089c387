"""Elementwise math and ``chainrule.special`` (issue 14): edge values, errors, keyword forms, vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

EDGE = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -3.5, 1e-8, 30.5, -40.0, np.inf, -np.inf, np.nan])


def _same(got, ref, rtol=1e-10):
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    assert got.data.dtype == ref.dtype
    np.testing.assert_allclose(got.data, ref, rtol=rtol, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize(
    "name",
    ["floor", "ceil", "trunc", "frac", "sinh", "cosh", "atan", "asinh", "exp2", "sinc", "reciprocal",
     "erfc", "lgamma", "digamma", "i0", "isinf", "isposinf", "isneginf", "signbit", "nan_to_num"],
)  # fmt: skip
def test_unary_edge_values_match_torch(name):
    _same(getattr(cr, name)(cr.tensor(EDGE)), getattr(torch, name)(torch.tensor(EDGE)))


@pytest.mark.parametrize("name", ["i0e", "i1", "i1e", "ndtr", "log_ndtr", "erfcx", "entr", "gammaln", "psi"])
def test_special_edge_values_match_torch(name):
    _same(getattr(cr.special, name)(cr.tensor(EDGE)), getattr(torch.special, name)(torch.tensor(EDGE)))


def test_inverse_functions_at_the_ends():
    p = np.array([0.0, 1e-300, 1e-20, 0.5, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])
    _same(cr.special.ndtri(cr.tensor(p)), torch.special.ndtri(torch.tensor(p)), rtol=1e-12)
    x = np.array([-1.0, -1 + 1e-15, -0.3, 0.0, 1e-20, 0.7, 1 - 1e-16, 1.0, 1.5])
    _same(cr.erfinv(cr.tensor(x)), torch.erfinv(torch.tensor(x)), rtol=1e-12)


def test_integer_inputs_give_float32():
    x = np.array([1, 2, 3])
    for name in ("sinh", "asinh", "log2", "exp2", "reciprocal", "lgamma", "erfc", "deg2rad"):
        got, ref = getattr(cr, name)(cr.tensor(x)), getattr(torch, name)(torch.tensor(x))
        _same(got, ref, rtol=1e-6)
    assert cr.floor(cr.tensor(x)).dtype == np.int64


def test_keyword_forms_and_methods():
    a, b = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.5, -2.0])
    ca, cb, ta, tb = cr.tensor(a), cr.tensor(b), torch.tensor(a), torch.tensor(b)
    _same(cr.addcdiv(ca, ca, cb, value=0.5), torch.addcdiv(ta, ta, tb, value=0.5))
    _same(ca.addcmul(ca, cb, value=-2), ta.addcmul(ta, tb, value=-2))
    _same(cr.logit(ca.sigmoid(), eps=0.3), torch.logit(ta.sigmoid(), eps=0.3))
    _same(ca.lerp(cb, 0.7), ta.lerp(tb, 0.7))
    _same(cr.nan_to_num(cr.tensor(EDGE), nan=1.0, posinf=2.0), torch.nan_to_num(torch.tensor(EDGE), 1.0, 2.0))
    _same(ca.polygamma(2), ta.polygamma(2))
    _same(cr.mvlgamma(ca + 3, p=3), torch.mvlgamma(ta + 3, p=3))
    _same(cr.arctan2(ca, cb), torch.arctan2(ta, tb))
    _same(cr.special.zeta(cb + 3, ca + 1), torch.special.zeta(tb + 3, ta + 1))
    m, e = cr.frexp(ca)
    tm, te = torch.frexp(ta)
    _same(m, tm)
    assert e.dtype == np.int32 and e.tolist() == te.tolist()
    _same(cr.float_power(cr.tensor(np.float32([2.0])), 3), torch.float_power(torch.tensor([2.0]), 3))


def test_gradients_where_formulas_are_special():
    x = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    cr.sinc(x).sum().backward()
    t = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.sinc(t).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), atol=1e-12)
    y = cr.tensor(np.array([0.0, 2.0]), requires_grad=True)
    cr.special.i1(y).sum().backward()
    u = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.special.i1(u).sum().backward()
    np.testing.assert_allclose(y.grad.data, u.grad.numpy(), rtol=1e-12)


def test_errors_name_the_argument():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="out="):
        cr.atan2(x, x, out=x)
    with pytest.raises(RuntimeError, match="n must be a non-negative integer"):
        cr.polygamma(-1, x)
    with pytest.raises(RuntimeError, match="frexp"):
        cr.frexp(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        cr.addcdiv(cr.tensor([1]), cr.tensor([1]), cr.tensor([2]))
    with pytest.raises(RuntimeError, match="different dtypes"):
        cr.heaviside(x, cr.tensor([1]))
    with pytest.raises(NotImplementedError, match=r"zeta.*'self'"):
        cr.special.zeta(cr.tensor([3.0], requires_grad=True), x).sum().backward()


def test_onnx_export_names_an_unconverted_op(tmp_path):
    pytest.importorskip("onnx")

    class M(nn.Module):
        def forward(self, x):
            return cr.lgamma(x)

    with pytest.raises(NotImplementedError, match="Lgamma"):
        cr.onnx.export(M(), cr.randn(2, 3), tmp_path / "m.onnx")


@pytest.mark.parametrize(
    "name", ["floor", "ceil", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "reciprocal"]
)
def test_onnx_converters_match_chainrule(tmp_path, name):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    shift = 1.5 if name == "acosh" else 0.0

    class M(nn.Module):
        def forward(self, x):
            return getattr(cr, name)(x * 0.4 + shift)

    x = np.random.default_rng(0).uniform(-2, 2, (3, 4)).astype(np.float32)
    path = tmp_path / f"{name}.onnx"
    cr.onnx.export(M(), cr.tensor(x), path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {sess.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, M()(cr.tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_polygamma_below_zero_by_reflection_matches_torch():
    """Negative non-integers, also far from 0 (the zeta sum alone would need |x| terms: it gave ~0)."""
    x = np.array([-0.5, -1.5, -2.25, -16.3, -4988429.2, -1234567.89])
    for n in range(1, 5):
        ours = cr.polygamma(n, cr.tensor(x)).data
        theirs = torch.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"polygamma({n}, x)")
