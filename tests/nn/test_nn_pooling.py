"""Pooling against torch: max (ties to the first maximum), average (padding, ceil_mode, count_include_pad),
adaptive average; parameters drawn by hypothesis; second order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from nn_parity import check_function_parity

import chainrule as cr
import chainrule.nn.functional as F


@st.composite
def pool_cases(draw, dilation: bool = True):  # noqa: ANN001, ANN201
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    pad = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    size = tuple(max(di * (ki - 1) + 1 - 2 * p, 1) + draw(st.integers(0, 4)) for ki, di, p in zip(k, d, pad))
    return k, stride, pad, d, size, draw(st.booleans())


def _every_window_sees_the_input(k, stride, pad, d, size, ceil) -> bool:  # noqa: ANN001
    """False when some window lies wholly in the padding (dilation holes): torch then reads out of bounds."""
    for ki, si, pi, di, n in zip(k, stride or k, pad, d, size):
        span = n + 2 * pi - di * (ki - 1) - 1
        out = (-(-span // si) if ceil else span // si) + 1
        if ceil and (out - 1) * si >= n + pi:
            out -= 1
        for o in range(out):
            if not any(0 <= o * si - pi + j * di < n for j in range(ki)):
                return False
    return True


@given(case=pool_cases(), ties=st.booleans(), seed=st.integers(0, 1000))
def test_max_pool2d_matches_torch(torch, case, ties, seed) -> None:
    assume(_every_window_sees_the_input(*case))
    k, stride, pad, d, size, ceil = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, *size))
    if ties:
        x = np.round(x)  # many equal values: the gradient must go to the first maximum, as torch
    kw = {"kernel_size": k, "stride": stride, "padding": pad, "dilation": d, "ceil_mode": ceil}
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.max_pool2d(t, **kw),
        lambda c: F.max_pool2d(c, **kw),
        [x],
        second_order=True,
    )


@given(case=pool_cases(dilation=False), include_pad=st.booleans(), seed=st.integers(0, 1000))
def test_avg_pool2d_matches_torch(torch, case, include_pad, seed) -> None:
    k, stride, pad, _, size, ceil = case
    x = np.random.default_rng(seed).standard_normal((2, 2, *size))
    kw = {
        "kernel_size": k,
        "stride": stride,
        "padding": pad,
        "ceil_mode": ceil,
        "count_include_pad": include_pad,
    }
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.avg_pool2d(t, **kw),
        lambda c: F.avg_pool2d(c, **kw),
        [x],
        second_order=True,
    )


@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 5), ow=st.integers(1, 5))
def test_adaptive_avg_pool2d_matches_torch(torch, h, w, oh, ow) -> None:
    x = np.random.default_rng(h * 10 + w).standard_normal((2, 3, h, w))
    check_function_parity(
        torch,
        lambda t: torch.nn.functional.adaptive_avg_pool2d(t, (oh, ow)),
        lambda c: F.adaptive_avg_pool2d(c, (oh, ow)),
        [x],
        second_order=True,
    )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("max_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("avg_pool1d", {"kernel_size": 2}),
        ("adaptive_avg_pool1d", {"output_size": 3}),
        ("max_pool3d", {"kernel_size": 2, "ceil_mode": True}),
        ("avg_pool3d", {"kernel_size": 2, "stride": 1}),
    ],
)
def test_other_pools_match_torch(torch, name: str, kwargs: dict) -> None:
    shape = (2, 3, 7) if "1d" in name else (1, 2, 3, 5, 4)
    x = np.random.default_rng(0).standard_normal(shape)
    check_function_parity(
        torch,
        lambda t: getattr(torch.nn.functional, name)(t, **kwargs),
        lambda c: getattr(F, name)(c, **kwargs),
        [x],
    )


def test_default_stride_is_kernel_size() -> None:
    x = cr.arange(36.0).reshape(1, 1, 6, 6)
    assert F.max_pool2d(x, 2).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 3).shape == (1, 1, 2, 2)
    assert cr.nn.MaxPool2d(2).stride == 2


def test_max_pool_tie_gradient_goes_to_first(torch) -> None:
    x = cr.ones(1, 1, 2, 2, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 0], [0, 0]])


def test_max_pool_float32_and_errors() -> None:
    x = cr.randn(2, 3, 8, 8, requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32
    with pytest.raises(ValueError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        F.max_pool2d(cr.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        F.avg_pool2d(x, 0)


# ------------------------------------------------------------ non-overlapping windows (the tiled fast path)
@pytest.mark.parametrize(
    ("nd", "shape", "kernel"),
    [
        (1, (2, 3, 8), 2),
        (1, (2, 3, 7), 3),  # a tail no window covers
        (2, (2, 3, 6, 6), 2),
        (2, (2, 3, 7, 5), (2, 3)),
        (2, (1, 2, 4, 4), 1),
        (3, (1, 2, 4, 5, 6), 2),
    ],
)
@pytest.mark.parametrize("ties", [False, True])
def test_non_overlapping_max_pool_matches_torch(torch, nd, shape, kernel, ties) -> None:
    x = np.random.default_rng(nd).standard_normal(shape)
    if ties:
        x = np.round(x)  # many windows with several maxima: the first one takes the gradient
    name = f"max_pool{nd}d"
    check_function_parity(
        torch,
        lambda t: getattr(torch.nn.functional, name)(t, kernel),
        lambda c: getattr(F, name)(c, kernel),
        [x],
        second_order=True,
    )
    y, idx = getattr(F, name)(cr.tensor(x), kernel, return_indices=True)
    ty, tidx = getattr(torch.nn.functional, name)(torch.tensor(x), kernel, return_indices=True)
    np.testing.assert_array_equal(y.data, ty.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())


@pytest.mark.parametrize("where", [(0, 0, 0, 0), (0, 1, 3, 2), (1, 2, 1, 1)])
def test_max_pool_nan_wins_its_window_as_in_torch(torch, where) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    x[where] = np.nan
    check_function_parity(
        torch, lambda t: torch.nn.functional.max_pool2d(t, 2), lambda c: F.max_pool2d(c, 2), [x]
    )


def test_max_pool_infinite_gradient_stays_on_the_arg_max(torch) -> None:
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    gy = np.ones((1, 2, 2, 2))
    gy[0, 1, 1, 0] = np.inf
    c = cr.tensor(x, requires_grad=True)
    F.max_pool2d(c, 2).backward(cr.tensor(gy))
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).backward(torch.tensor(gy))
    np.testing.assert_array_equal(c.grad.data, t.grad.numpy())  # inf at the arg-max, 0 (not nan) elsewhere
