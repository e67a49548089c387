"""torch.special's Bessel/Airy functions and orthogonal polynomials against torch 2.13 (values, dtypes, edge
cases, broadcasting, and torch's non-differentiability), plus special.softmax/log_softmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

UNARY = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "spherical_bessel_j0",
]  # fmt: skip
POLYNOMIALS = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
    "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip


def _wide_inputs() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([
        rng.uniform(-12, 12, 3000), rng.uniform(-200, 200, 1000),
        10.0 ** rng.uniform(-8, 3, 1000) * rng.choice([-1.0, 1.0], 1000),
        [0.0, -0.0, np.nan, np.inf, -np.inf, 5, -5, 8, -8, 2, -2, 2.09, -2.09, 103.892, 104, 1e-5, 0.5, -0.5,
         700, 710, 800, 1e10, -1e10],
    ])  # fmt: skip


def _same_special_values(got: np.ndarray, ref: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf])


@pytest.mark.parametrize("name", UNARY)
def test_bessel_float64_matches_torch(name: str) -> None:
    x = _wide_inputs()
    got = getattr(cr.special, name)(cr.tensor(x)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
    assert got.dtype == np.float64
    _same_special_values(got, ref)
    ok = np.isfinite(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", UNARY)
def test_bessel_float32_stays_float32(name: str) -> None:
    x = _wide_inputs().astype(np.float32)
    got = getattr(cr.special, name)(cr.tensor(x)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
    assert got.dtype == np.float32
    _same_special_values(got, ref)
    ok = np.isfinite(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", UNARY)
def test_bessel_integer_input_gives_float32_and_no_gradient(name: str) -> None:
    got = getattr(cr.special, name)(cr.tensor([0, 1, 3, -2]))
    ref = getattr(torch.special, name)(torch.tensor([0, 1, 3, -2]))
    assert got.dtype == cr.float32 and ref.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6, equal_nan=True)
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    y = getattr(cr.special, name)(x)
    tx = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    assert y.requires_grad is False and getattr(torch.special, name)(tx).requires_grad is False
    with pytest.raises(RuntimeError):  # nothing to differentiate, as torch's "does not require grad"
        y.sum().backward()


def test_bessel_refusals() -> None:
    with pytest.raises(TypeError, match="out="):
        cr.special.bessel_j0(cr.tensor([1.0]), out=cr.tensor([0.0]))
    with pytest.raises(TypeError, match="Tensor"):
        cr.special.bessel_j0(1.0)
    with pytest.raises(NotImplementedError):
        torch.special.bessel_j0(torch.tensor([1j]))
    with pytest.raises(NotImplementedError, match="complex"):
        cr.special.bessel_j0(cr.tensor(np.array([1j])))


def test_bessel_known_values() -> None:
    x = cr.tensor([0.0, 1.0, 2.4048255576957727], dtype=cr.float64)
    np.testing.assert_allclose(cr.special.bessel_j0(x).numpy(), [1.0, 0.7651976865579666, 0.0], atol=1e-15)
    np.testing.assert_allclose(
        cr.special.airy_ai(cr.tensor([0.0], dtype=cr.float64)).numpy(), [0.3550280538878172]
    )
    assert cr.special.modified_bessel_k0(cr.tensor([0.0, -1.0])).tolist()[0] == np.inf
    assert np.isnan(cr.special.modified_bessel_k0(cr.tensor([-1.0])).item())
    assert cr.special.bessel_y1(cr.tensor([0.0])).item() == -np.inf


# ---------------------------------------------------------------- polynomials
def _grid(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.uniform(-1, 1, 120), rng.uniform(-3, 3, 120), rng.uniform(0, 1, 80),
                         [0, -0.0, 1, -1, 0.5, np.inf, -np.inf, 1.0000001, 0.9999999, 2, -2]])  # fmt: skip
    ns = np.array([-3, -1, -0.5, 0, 0.7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 20, 50, 100, 128, 129, 300, 512,
                   513, 1000, np.nan, np.inf, -np.inf, 1e19])  # fmt: skip
    x, n = np.meshgrid(xs, ns)
    return x.astype(dtype), n.astype(dtype)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_float64_match_torch(name: str) -> None:
    """Negative, fractional, nan/inf and huge n; |x| > 1 (overflow to nan), the interval's ends, inf x.
    torch's build fuses multiply-adds, so at the edge of overflow (|value| > 1e300) its recurrence can stay
    finite a step or two longer than NumPy's: only there may chainrule be nan/inf where torch is not."""
    x, n = _grid(np.float64)
    got = getattr(cr.special, name)(cr.tensor(x), cr.tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    assert got.dtype == np.float64
    with np.errstate(invalid="ignore"):
        edge = ~np.isfinite(ref) | (np.abs(ref) > 1e300)
    assert np.all(np.isnan(got[np.isnan(ref)]))
    ok = np.isfinite(got) | ~edge
    np.testing.assert_array_equal(np.isfinite(got[ok]), np.isfinite(ref[ok]))
    both = np.isfinite(got) & np.isfinite(ref)
    assert np.all(np.abs(got[both] - ref[both]) <= 1e-10 * np.maximum(np.abs(ref[both]), 1))
    inf = np.isinf(got)
    np.testing.assert_array_equal(got[inf], ref[inf])


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_float32_match_torch_where_well_conditioned(name: str) -> None:
    rng = np.random.default_rng(2)
    lo = 0.0 if name.startswith("shifted") else -1.0
    x = rng.uniform(lo, 1, (40, 1)).astype(np.float32)
    n = np.arange(0, 12, dtype=np.float32)
    got = getattr(cr.special, name)(cr.tensor(x), cr.tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    assert got.dtype == np.float32 and got.shape == (40, 12)
    np.testing.assert_allclose(got, ref, rtol=2e-4, atol=2e-3)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_nan_x_gives_nan(name: str) -> None:
    """torch leaves the result unset for nan x with n >= 2 (garbage: 0, 5e-324...); chainrule says nan."""
    got = getattr(cr.special, name)(cr.tensor([np.nan] * 3, dtype=cr.float64), cr.tensor([2.0, 3.0, 10.0]))
    assert np.isnan(got.numpy()).all()
    assert getattr(cr.special, name)(cr.tensor([np.nan]), -1).tolist() == [0.0]


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_dtypes_scalars_and_no_gradient(name: str) -> None:
    f, tf = getattr(cr.special, name), getattr(torch.special, name)
    cases = [
        (lambda m: m.tensor([0.25, 2]), lambda m: m.tensor([3, 4])),
        (lambda m: m.tensor([1, 2]), lambda m: m.tensor([3, 4])),
        (lambda m: m.tensor([0.25, 2.0], dtype=m.float64), lambda m: m.tensor([3.0, 4.0])),
        (lambda m: m.tensor([0.25, 2.0]), lambda m: 3),
        (lambda m: m.tensor([0.25, 2.0]), lambda m: 3.0),
        (lambda m: 0.25, lambda m: m.tensor([3, 4])),
        (lambda m: 2, lambda m: m.tensor([3, 4])),
    ]
    for make_x, make_n in cases:
        got, ref = f(make_x(cr), make_n(cr)), tf(make_x(torch), make_n(torch))
        assert str(got.dtype) == str(ref.dtype).replace("torch.", ""), (make_x(torch), make_n(torch))
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(TypeError):
        tf(0.5, 3)
    with pytest.raises(TypeError, match="both be numbers"):
        f(0.5, 3)
    with pytest.raises(TypeError, match="out="):
        f(cr.tensor([0.5]), 3, out=cr.tensor([0.0]))
    x = cr.tensor([0.3, 0.6], dtype=cr.float64, requires_grad=True)
    assert f(x, 3).requires_grad is False
    assert tf(torch.tensor([0.3], dtype=torch.float64, requires_grad=True), 3).requires_grad is False


@pytest.mark.parametrize("name", ["hermite_polynomial_h", "hermite_polynomial_he"])
def test_hermite_degree_limits(name: str) -> None:
    for dtype, tdtype, limit in ((cr.float32, torch.float32, 128), (cr.float64, torch.float64, 512)):
        n = [limit, limit + 1]
        got = getattr(cr.special, name)(cr.tensor([0.1, 0.1], dtype=dtype), cr.tensor(n, dtype=dtype)).numpy()
        ref = getattr(torch.special, name)(
            torch.tensor([0.1, 0.1], dtype=tdtype), torch.tensor(n, dtype=tdtype)
        )
        assert np.isfinite(got[0]) == np.isfinite(ref[0].item()) and np.isnan(got[1]) and ref[1].isnan()


@settings(max_examples=25, deadline=None)
@given(
    xs=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    ns=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    name=st.sampled_from(POLYNOMIALS),
)
def test_polynomials_broadcast_like_torch(xs: list[int], ns: list[int], name: str) -> None:
    shape_x, shape_n = tuple(xs), tuple(ns)
    try:
        np.broadcast_shapes(shape_x, shape_n)
    except ValueError:
        return
    rng = np.random.default_rng(len(xs) * 7 + len(ns))
    x = rng.uniform(-1.5, 1.5, shape_x)
    n = rng.integers(-1, 15, shape_n).astype(np.float64)
    got = getattr(cr.special, name)(cr.tensor(x), cr.tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- softmax / log_softmax
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_special_softmax_matches_torch(name: str) -> None:
    data = np.random.default_rng(3).normal(size=(3, 4))
    x = cr.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y, ty = getattr(cr.special, name)(x, 1), getattr(torch.special, name)(tx, 1)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    w = np.arange(12.0).reshape(3, 4)
    (y * cr.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    got = getattr(cr.special, name)(cr.tensor(data), 0, dtype=cr.float32)
    assert (
        got.dtype == cr.float32
        and getattr(torch.special, name)(tx, 0, dtype=torch.float32).dtype == torch.float32
    )
    with pytest.raises(TypeError):
        getattr(cr.special, name)(cr.tensor(data))


@pytest.mark.parametrize(
    "name",
    ["hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"],
)
def test_recurrences_float32_bit_for_bit(name: str) -> None:
    """torch's float32 recurrence fuses ``a * q - b`` into one multiply-add; chainrule rounds it the same way,
    so even the cancelling values near the roots agree to the bit."""
    x, n = _grid(np.float32)
    got = getattr(cr.special, name)(cr.tensor(x), cr.tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    np.testing.assert_array_equal(got, ref)
