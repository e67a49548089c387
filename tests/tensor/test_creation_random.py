"""Issue 14, creation and random ops and the elementwise keyword/NaN fixes: behaviour the parity registry
cannot express (errors, keyword forms, in-place forms, NaN conventions, statistics of random draws)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

NAN = float("nan")


def _np(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------- elementwise keyword fixes
def test_add_sub_rsub_alpha_match_torch() -> None:
    a, b = [1.0, -2.0, 3.5], [0.5, 4.0, -1.0]
    ca, cb, ta, tb = cr.tensor(a), cr.tensor(b), torch.tensor(a), torch.tensor(b)
    np.testing.assert_allclose(_np(cr.add(ca, cb, alpha=2)), torch.add(ta, tb, alpha=2).numpy())
    np.testing.assert_allclose(_np(cr.sub(ca, cb, alpha=-0.5)), torch.sub(ta, tb, alpha=-0.5).numpy())
    np.testing.assert_allclose(_np(cr.rsub(ca, cb, alpha=3)), torch.rsub(ta, tb, alpha=3).numpy())
    np.testing.assert_allclose(_np(ca.add(2.0, alpha=3)), ta.add(2.0, alpha=3).numpy())
    assert cr.add(cr.tensor([1, 2]), cr.tensor([3, 4]), alpha=2).dtype == np.int64


def test_alpha_float_with_integer_tensors_raises() -> None:
    with pytest.raises(RuntimeError, match="alpha"):
        cr.add(cr.tensor([1, 2]), cr.tensor([1, 2]), alpha=2.5)


def test_out_argument_is_refused() -> None:
    x = cr.ones(2)
    with pytest.raises(TypeError, match="out="):
        cr.add(x, x, out=x)
    with pytest.raises(TypeError, match="out="):
        cr.div(x, x, out=x)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_mode_values_dtypes_and_zero_gradient(mode: str) -> None:
    a, b = [5.0, -7.0, 3.5, 1.0, 0.0], [2.0, 2.0, -1.5, 0.0, 0.0]
    theirs = torch.div(
        torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64), rounding_mode=mode
    )
    x = cr.tensor(a, dtype="float64", requires_grad=True)
    ours = cr.div(x, cr.tensor(b, dtype="float64"), rounding_mode=mode)
    np.testing.assert_array_equal(_np(ours), theirs.numpy())
    ours.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.zeros(5))
    ints = cr.div(cr.tensor([5, -7, 7]), cr.tensor([2, 2, -3]), rounding_mode=mode)
    expected = torch.div(torch.tensor([5, -7, 7]), torch.tensor([2, 2, -3]), rounding_mode=mode)
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(_np(ints), expected.numpy())


def test_div_bad_rounding_mode_and_integer_zero_division() -> None:
    with pytest.raises(ValueError, match="rounding_mode"):
        cr.div(cr.ones(2), cr.ones(2), rounding_mode="round")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        cr.div(cr.tensor([1, 2]), cr.tensor([1, 0]), rounding_mode="floor")


def test_sign_and_abs_gradient_at_nan_match_torch() -> None:
    values = [NAN, 1.0, -2.0, 0.0]
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    x = cr.tensor(values, dtype="float64", requires_grad=True)
    np.testing.assert_array_equal(_np(cr.sign(x)), torch.sign(t).detach().numpy())
    cr.abs(x).sum().backward()
    torch.abs(t).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), t.grad.numpy())


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_gradient_at_nan_and_ties_match_torch(op: str) -> None:
    a, b = [NAN, 1.0, NAN, 2.0, 3.0], [1.0, NAN, NAN, 2.0, -1.0]
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    ca, cb = (cr.tensor(v, dtype="float64", requires_grad=True) for v in (a, b))
    getattr(torch, op)(ta, tb).backward(torch.full((5,), 3.0, dtype=torch.float64))
    getattr(cr, op)(ca, cb).backward(cr.full((5,), 3.0, dtype="float64"))
    np.testing.assert_array_equal(_np(ca.grad), ta.grad.numpy())
    np.testing.assert_array_equal(_np(cb.grad), tb.grad.numpy())


def test_remainder_gradient_uses_floor_division() -> None:
    a, b = [7.0, -7.0, 0.30000000000000004], [2.0, 2.0, 0.1]
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    ca, cb = (cr.tensor(v, dtype="float64", requires_grad=True) for v in (a, b))
    torch.remainder(ta, tb).sum().backward()
    cr.remainder(ca, cb).sum().backward()
    np.testing.assert_array_equal(_np(cb.grad), tb.grad.numpy())


# ---------------------------------------------------------------------------- Tensor.to and conversions
def test_to_positional_and_keyword_forms() -> None:
    x = cr.tensor([1.5, -2.5])
    assert x.to("cpu", "float64").dtype == np.float64
    assert x.to("cpu", np.float64, False, True).dtype == np.float64
    assert x.to(device="cpu", dtype="int64", non_blocking=False, copy=False).dtype == np.int64
    assert x.to(np.float32) is x
    copied = x.to(np.float32, copy=True)
    assert copied is not x and np.array_equal(_np(copied), _np(x))
    assert x.to(cr.zeros(1, dtype="float64")).dtype == np.float64
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(colour="red")


def test_byte_char_short_match_torch() -> None:
    values = [1.7, -2.2, 100.0]
    t = torch.tensor(values)
    for name in ("byte", "char", "short"):
        ours, theirs = getattr(cr.tensor(values), name)(), getattr(t, name)()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.").replace("char", "int8")
        np.testing.assert_array_equal(_np(ours), theirs.numpy())


# ---------------------------------------------------------------------------- creation
def test_like_functions_take_device_dtype_requires_grad() -> None:
    x = cr.ones(2, 3)
    for fn in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        out = fn(x, dtype="float64", device="cpu", requires_grad=True)
        assert out.shape == (2, 3) and out.dtype == np.float64 and out.requires_grad
    assert cr.full_like(x, 7, device="cpu").dtype == np.float32
    out = cr.randint_like(x, 3, 5)
    assert out.dtype == np.float32 and ((_np(out) >= 3) & (_np(out) < 5)).all()


def test_new_methods() -> None:
    x = cr.ones(2, dtype="float64")
    assert x.new_zeros(3, 2).shape == (3, 2) and x.new_zeros((3,)).dtype == np.float64
    assert x.new_ones((2,), dtype="int64").dtype == np.int64
    np.testing.assert_array_equal(_np(x.new_full((2, 2), -1.5)), np.full((2, 2), -1.5))
    assert x.new_empty((0, 4)).shape == (0, 4)
    assert x.new_empty_strided((2, 3), (3, 1)).shape == (2, 3)


def test_empty_strided_and_permuted_check_their_arguments() -> None:
    assert cr.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    assert cr.empty_permuted((2, 3, 4), (2, 0, 1)).shape == (2, 3, 4)
    with pytest.raises(RuntimeError, match="stride"):
        cr.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="permutation"):
        cr.empty_permuted((2, 3), (0, 0))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace_and_logspace_match_torch(dtype: str) -> None:
    # torch's vectorised kernel rounds a few values an ulp apart: compared at the dtype's tolerance
    tdt = getattr(torch, dtype)
    rtol = {"float32": 1.3e-6, "float64": 1e-12, "int64": 0}[dtype]
    for start, end, steps in [(-3, 7.5, 50), (0, 1, 1), (2.0, -4.0, 11), (0, 10, 0), (1, 10, 7)]:
        ours, theirs = (
            cr.linspace(start, end, steps, dtype=dtype),
            torch.linspace(start, end, steps, dtype=tdt),
        )
        assert ours.dtype == np.dtype(dtype)
        np.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=rtol, atol=1e-5 if rtol > 1e-7 else 1e-12)
        ours = cr.logspace(start, end, steps, base=2.0, dtype=dtype)
        theirs = torch.logspace(start, end, steps, base=2.0, dtype=tdt)
        np.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=max(rtol, 1e-12))


def test_linspace_float64_with_float32_tensor_endpoints() -> None:
    start, end = np.float32(-2.1), np.float32(3.3)
    theirs = torch.linspace(torch.tensor(start), torch.tensor(end), 50, dtype=torch.float64)
    ours = cr.linspace(cr.tensor(start), cr.tensor(end), 50, dtype="float64")
    assert ours.dtype == np.float64
    np.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_scalar_tensor_and_triangle_indices_match_torch() -> None:
    assert cr.scalar_tensor(3).dtype == np.float32 and cr.scalar_tensor(3).ndim == 0
    for row, col, offset in [(4, 3, 0), (3, 5, 1), (5, 2, -2), (0, 3, 0)]:
        np.testing.assert_array_equal(
            _np(cr.tril_indices(row, col, offset)), torch.tril_indices(row, col, offset)
        )
        np.testing.assert_array_equal(
            _np(cr.triu_indices(row, col, offset)), torch.triu_indices(row, col, offset)
        )


def test_fill_function_and_gradient() -> None:
    x = cr.tensor([1.0, NAN, 3.0], requires_grad=True)
    v = cr.tensor(2.0, requires_grad=True)
    out = cr.fill(x, v)
    np.testing.assert_array_equal(_np(out), [2.0, 2.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0.0, 0.0, 0.0])
    assert v.grad.item() == 3.0
    with pytest.raises(RuntimeError, match="0-dimension"):
        cr.fill(x, cr.ones(2))


# ---------------------------------------------------------------------------- random
N = 200_000


def _moments(a: np.ndarray) -> tuple[float, float]:
    return float(a.mean()), float(a.var())


def test_in_place_samplers_statistics() -> None:
    cr.manual_seed(0)
    x = cr.zeros(N, dtype="float64")
    mean, var = _moments(_np(x.uniform_(-1.0, 3.0)))
    assert abs(mean - 1.0) < 0.02 and abs(var - 16 / 12) < 0.03
    mean, var = _moments(_np(x.normal_(2.0, 0.5)))
    assert abs(mean - 2.0) < 0.01 and abs(var - 0.25) < 0.01
    mean, var = _moments(_np(x.exponential_(2.0)))
    assert abs(mean - 0.5) < 0.01 and abs(var - 0.25) < 0.01
    mean, var = _moments(_np(x.geometric_(0.25)))
    assert abs(mean - 4.0) < 0.05 and abs(var - 12.0) < 0.5
    mean, _ = _moments(np.log(_np(x.log_normal_(1.0, 0.5))))
    assert abs(mean - 1.0) < 0.01
    median = float(np.median(_np(x.cauchy_(3.0, 1.0))))
    assert abs(median - 3.0) < 0.02
    mean, _ = _moments(_np(x.bernoulli_(0.3)))
    assert abs(mean - 0.3) < 0.01


def test_in_place_sampler_bumps_version_and_refuses_leaf_requiring_grad() -> None:
    x = cr.zeros(3)
    before = x._version
    x.normal_()
    assert x._version > before
    with pytest.raises(RuntimeError):
        cr.zeros(3, requires_grad=True).uniform_()


def test_bernoulli_statistics_dtype_and_zero_gradient() -> None:
    cr.manual_seed(1)
    p = cr.full((N,), 0.2, dtype="float64", requires_grad=True)
    out = cr.bernoulli(p)
    assert out.dtype == np.float64 and set(np.unique(_np(out))) <= {0.0, 1.0}
    assert abs(_np(out).mean() - 0.2) < 0.01
    out.sum().backward()
    assert not _np(p.grad).any()
    assert abs(_np(cr.bernoulli(cr.zeros(N), 0.7)).mean() - 0.7) < 0.01
    with pytest.raises(NotImplementedError, match="generator"):
        cr.bernoulli(p, generator=torch.Generator())


def test_multinomial_frequencies_and_errors() -> None:
    cr.manual_seed(2)
    w = cr.tensor([1.0, 2.0, 7.0])
    draws = _np(cr.multinomial(w, N, replacement=True))
    assert draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / N, [0.1, 0.2, 0.7], atol=0.01)
    rows = _np(cr.multinomial(cr.ones(4, 5), 5))
    assert all(sorted(r) == list(range(5)) for r in rows)
    with pytest.raises(RuntimeError, match="without replacement"):
        cr.multinomial(w, 4)


def test_normal_forms_statistics_and_gradient() -> None:
    cr.manual_seed(3)
    mean = cr.full((N,), 1.5, dtype="float64", requires_grad=True)
    std = cr.full((N,), 2.0, dtype="float64", requires_grad=True)
    out = cr.normal(mean, std)
    m, v = _moments(_np(out))
    assert abs(m - 1.5) < 0.02 and abs(v - 4.0) < 0.05
    out.sum().backward()
    np.testing.assert_array_equal(_np(mean.grad), np.ones(N))
    np.testing.assert_allclose(_np(std.grad), (_np(out) - 1.5) / 2.0)
    number = cr.normal(0.5, 0.1, (N,))
    assert number.dtype == np.float32 and abs(_np(number).mean() - 0.5) < 0.01
    assert cr.normal(2.0, cr.ones(3)).shape == (3,)
    with pytest.raises(RuntimeError, match="std"):
        cr.normal(cr.zeros(2), -1.0)


# ---------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("DivRounding", lambda x: cr.div(x, 2.0, rounding_mode="floor")),
        ("_Fill", lambda x: cr.fill(x, 1.5)),
        ("_Sampled", lambda x: cr.bernoulli(cr.sigmoid(x))),
    ],
)
def test_onnx_export_names_the_unsupported_function(name, fn) -> None:
    pytest.importorskip("onnx")
    nn = cr.nn

    class Model(nn.Module):
        def forward(self, x):
            return fn(x)

    with pytest.raises(NotImplementedError, match=name):
        cr.onnx.export(Model(), cr.randn(2, 3), None)
