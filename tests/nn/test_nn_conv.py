"""Convolutions against torch with stride, padding, dilation and groups drawn by hypothesis; second order;
errors; and the speed of im2col + one GEMM."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_parity import check_function_parity

import chainrule as cr
import chainrule.nn.functional as F


@st.composite
def conv2d_cases(draw):  # noqa: ANN001, ANN201
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = max(dilation[0] * (kh - 1) + 1 - 2 * padding[0], 1) + draw(st.integers(0, 4))
    w = max(dilation[1] * (kw - 1) + 1 - 2 * padding[1], 1) + draw(st.integers(0, 4))
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return (n, cin, h, w), (cout, cin // groups, kh, kw), bias, stride, padding, dilation, groups


@given(case=conv2d_cases(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(torch, case, seed) -> None:
    x_shape, w_shape, bias, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)] + (
        [rng.standard_normal(w_shape[0])] if bias else []
    )
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    check_function_parity(
        torch,
        lambda *a: (
            torch.nn.functional.conv2d(*a, **kw)
            if len(a) == 3
            else torch.nn.functional.conv2d(a[0], a[1], None, **kw)
        ),
        lambda *a: F.conv2d(*a, **kw) if len(a) == 3 else F.conv2d(a[0], a[1], None, **kw),
        args,
        rtol=1e-9,
        atol=1e-10,
    )


@given(
    n=st.integers(1, 2),
    groups=st.integers(1, 2),
    k=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    extra=st.integers(0, 5),
)
def test_conv1d_matches_torch(torch, n, groups, k, stride, padding, dilation, extra) -> None:
    rng = np.random.default_rng(k * 7 + extra)
    length = max(dilation * (k - 1) + 1 - 2 * padding, 1) + extra
    x, w, b = (
        rng.standard_normal((n, 2 * groups, length)),
        rng.standard_normal((groups, 2, k)),
        rng.standard_normal(groups),
    )
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    check_function_parity(
        torch,
        lambda *a: torch.nn.functional.conv1d(*a, **kw),
        lambda *a: F.conv1d(*a, **kw),
        [x, w, b],
        rtol=1e-9,
        atol=1e-10,
    )


@given(
    groups=st.integers(1, 2),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    out_pad=st.integers(0, 2),
    size=st.integers(1, 4),
    bias=st.booleans(),
)
def test_conv_transpose2d_matches_torch(
    torch, groups, k, stride, padding, dilation, out_pad, size, bias
) -> None:
    out_pad = min(out_pad, max(stride, dilation) - 1)
    if (size - 1) * stride - 2 * padding + dilation * (k - 1) + out_pad + 1 <= 0:
        return
    rng = np.random.default_rng(size * 31 + k)
    x, w = rng.standard_normal((2, 2 * groups, size, size + 1)), rng.standard_normal((2 * groups, 3, k, k))
    b = rng.standard_normal(3 * groups) if bias else None
    kw = {
        "stride": stride,
        "padding": padding,
        "output_padding": out_pad,
        "groups": groups,
        "dilation": dilation,
    }
    tb = None if b is None else torch.tensor(b)
    cb = None if b is None else cr.tensor(b)
    check_function_parity(
        torch,
        lambda a, c: torch.nn.functional.conv_transpose2d(a, c, tb, **kw),
        lambda a, c: F.conv_transpose2d(a, c, cb, **kw),
        [x, w],
        rtol=1e-9,
        atol=1e-10,
    )


@pytest.mark.parametrize("kw", [{"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2}])
def test_conv2d_second_order_matches_torch(torch, kw: dict) -> None:
    rng = np.random.default_rng(0)
    x, w, b = (
        rng.standard_normal((2, 2, 5, 6)),
        rng.standard_normal((4, 2 // kw.get("groups", 1), 3, 2)),
        rng.standard_normal(4),
    )
    check_function_parity(
        torch,
        lambda *a: torch.nn.functional.conv2d(*a, **kw),
        lambda *a: F.conv2d(*a, **kw),
        [x, w, b],
        second_order=True,
        rtol=1e-9,
        atol=1e-10,
    )


def test_conv_second_order_numerically() -> None:
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    assert cr.gradgradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=1, groups=2), [x, w])
    assert cr.gradgradcheck(
        lambda a, b: F.conv_transpose2d(a, b, stride=2, output_padding=1, groups=2), [x, w]
    )


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_conv_same_and_valid_padding(torch) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 6, 5))
    for padding in ("same", "valid"):
        for w_shape, dilation in (((3, 2, 4, 3), 1), ((3, 2, 3, 2), 2)):
            w = rng.standard_normal(w_shape)
            kw = {"padding": padding, "dilation": dilation}
            check_function_parity(
                torch,
                lambda a, b, kw=kw: torch.nn.functional.conv2d(a, b, **kw),
                lambda a, b, kw=kw: F.conv2d(a, b, **kw),
                [x, w],
            )


def test_conv_errors() -> None:
    with pytest.raises(ValueError, match=r"expected input.*to have 4 channels, but got 3"):
        F.conv2d(cr.zeros(1, 3, 5, 5), cr.zeros(2, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="smaller than the"):
        F.conv2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(cr.zeros(5, 5), cr.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3, 3), stride=0)


def test_conv_keeps_float32() -> None:
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    conv = cr.nn.Conv2d(3, 4, 3, padding=1)
    y = conv(x)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == conv.weight.grad.dtype == conv.bias.grad.dtype == np.float32


def _best_time(fn, repeats: int = 7) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_conv2d_is_fast(torch) -> None:
    """32×1×28×28 through 8 3×3 filters, forward + backward: a few ms, within a small factor of torch's CPU
    time measured alongside (the machine may be loaded, so the bound is relative)."""
    x = cr.randn(32, 1, 28, 28, requires_grad=True)
    w = cr.randn(8, 1, 3, 3, requires_grad=True)
    b = cr.zeros(8, requires_grad=True)
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    threadpoolctl = pytest.importorskip("threadpoolctl")
    # torch runs on one thread here (conftest); so does BLAS, which otherwise spins on a contended machine
    with threadpoolctl.threadpool_limits(1):
        ours = _best_time(lambda: F.conv2d(x, w, b).sum().backward())
    theirs = _best_time(lambda: torch.nn.functional.conv2d(tx, tw, tb).sum().backward())
    assert ours < 5 * theirs + 0.01, (
        f"conv2d forward+backward: {ours * 1e3:.1f} ms vs torch {theirs * 1e3:.1f} ms"
    )
