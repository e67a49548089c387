"""Numerics: stable at extreme logits, float16 works (and stays float16), integers never require grad.

Any NumPy RuntimeWarning raised inside chainrule is an error in this suite (pyproject's filterwarnings), so
"finite" here also means "no overflow on the way".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr

F = cr.nn.functional

EXTREMES = [-1e4, -1e3, -50.0, -1.0, 0.0, 1.0, 50.0, 1e3, 1e4]

# name -> (chainrule fn, torch fn); each maps a (2, 9) tensor of logits to a tensor
STABLE: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "softplus": (lambda x: F.softplus(x), lambda x: _tf().softplus(x)),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda x: _tf().logsigmoid(x)),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda x: _tf().softmax(x, dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=1), lambda x: _tf().log_softmax(x, dim=1)),
    "log_softmax_dim0": (lambda x: F.log_softmax(x, dim=0), lambda x: _tf().log_softmax(x, dim=0)),
    "logsumexp": (lambda x: x.logsumexp(dim=1), lambda x: x.logsumexp(dim=1)),
    "cross_entropy": (
        lambda x: F.cross_entropy(x, cr.tensor([0, 8])),
        lambda x: _tf().cross_entropy(x, _torch().tensor([0, 8])),
    ),
    "cross_entropy_sum_smoothing": (
        lambda x: F.cross_entropy(x, cr.tensor([4, 1]), reduction="sum", label_smoothing=0.1),
        lambda x: _tf().cross_entropy(x, _torch().tensor([4, 1]), reduction="sum", label_smoothing=0.1),
    ),
    "nll_of_log_softmax": (
        lambda x: F.nll_loss(F.log_softmax(x, dim=1), cr.tensor([2, 7])),
        lambda x: _tf().nll_loss(_tf().log_softmax(x, dim=1), _torch().tensor([2, 7])),
    ),
    "bce_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, cr.full(x.shape, 0.25, dtype=x.dtype)),
        lambda x: _tf().binary_cross_entropy_with_logits(x, _torch().full(x.shape, 0.25, dtype=x.dtype)),
    ),
}


def _torch():
    import torch

    return torch


def _tf():
    import torch.nn.functional as tf

    return tf


def _logits(scale: float) -> np.ndarray:
    row = np.array(EXTREMES) * scale
    return np.stack([row, row[::-1]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(STABLE))
def test_finite_values_and_grads_at_extreme_logits(name: str, dtype: str, torch) -> None:
    fc, ft = STABLE[name]
    data = _logits(1.0)
    x = cr.tensor(data, dtype=dtype, requires_grad=True)
    y = fc(x)
    y.backward(cr.ones_like(y))
    assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)
    assert np.isfinite(y.data).all(), y
    assert np.isfinite(x.grad.data).all(), x.grad
    xt = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    yt = ft(xt)
    yt.backward(torch.ones_like(yt))
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", [n for n in STABLE if n != "cross_entropy_sum_smoothing"])
def test_float16_at_extreme_logits(name: str, torch) -> None:
    """float16 holds +-1e4 (max 65504): the stable ops stay finite there too, and close to torch. (A sum of
    several 1e4-sized losses overflows float16 in torch as well, so the summed variant is left out.)"""
    fc, ft = STABLE[name]
    data = _logits(1.0).astype(np.float16)
    x = cr.tensor(data, requires_grad=True)
    y = fc(x)
    y.backward(cr.ones_like(y))
    assert y.dtype == np.float16 and x.grad.dtype == np.float16
    assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
    xt = torch.tensor(data.astype(np.float64), requires_grad=True)
    yt = ft(xt)
    yt.backward(torch.ones_like(yt))
    ref_y, ref_g = yt.detach().numpy(), xt.grad.numpy()
    ok = np.abs(ref_y) < 6e4
    np.testing.assert_allclose(y.data.astype(np.float64)[ok], ref_y[ok], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(x.grad.data.astype(np.float64), ref_g, rtol=2e-3, atol=2e-3)


# --- float16: supported by every op family (NumPy computes it); results stay float16 ----------------------
HALF_FAMILIES: dict[str, tuple[Callable, Callable, list[tuple[int, ...]]]] = {
    "binary_broadcast": (
        lambda a, b: a * b + a / (b * b + 1),
        lambda a, b: a * b + a / (b * b + 1),
        [(3, 4), (4,)],
    ),
    "unary": (lambda a: a.exp() + a.tanh() + a.sin(), lambda a: a.exp() + a.tanh() + a.sin(), [(3, 4)]),
    "reductions": (
        lambda a: a.sum(dim=1) + a.mean(dim=1) + a.amax(dim=1) + a.var(dim=1),
        lambda a: a.sum(dim=1) + a.mean(dim=1) + a.amax(dim=1) + a.var(dim=1),
        [(3, 4)],
    ),
    "shape": (
        lambda a: cr.cat([a.T, a.T]).reshape(-1)[::3],
        lambda a: _torch().cat([a.T, a.T]).reshape(-1)[::3],
        [(3, 4)],
    ),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "linear": (
        lambda a, w, b: F.linear(a, w, b),
        lambda a, w, b: _tf().linear(a, w, b),
        [(3, 4), (5, 4), (5,)],
    ),
    "conv2d": (
        lambda a, w: F.conv2d(a, w, padding=1),
        lambda a, w: _tf().conv2d(a, w, padding=1),
        [(1, 2, 5, 5), (3, 2, 3, 3)],
    ),
    "pooling": (
        lambda a: F.max_pool2d(a, 2) + F.avg_pool2d(a, 2),
        lambda a: _tf().max_pool2d(a, 2) + _tf().avg_pool2d(a, 2),
        [(1, 2, 4, 4)],
    ),
    "normalization": (
        lambda a: F.layer_norm(a, (4,)) + F.batch_norm(a, None, None, training=True),
        lambda a: _tf().layer_norm(a, (4,)) + _tf().batch_norm(a, None, None, training=True),
        [(5, 4)],
    ),
    "losses": (
        lambda a, b: F.cross_entropy(a, cr.tensor([0, 1, 3])) + F.mse_loss(a, b),
        lambda a, b: _tf().cross_entropy(a, _torch().tensor([0, 1, 3])) + _tf().mse_loss(a, b),
        [(3, 4), (3, 4)],
    ),
}


@pytest.mark.parametrize("family", list(HALF_FAMILIES))
def test_float16_works_in_every_op_family(family: str, torch) -> None:
    fc, ft, shapes = HALF_FAMILIES[family]
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float16) for s in shapes]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    y = fc(*xs)
    y.backward(cr.ones_like(y))
    assert y.dtype == np.float16 and all(x.grad.dtype == np.float16 for x in xs)
    ts = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    yt = ft(*ts)
    yt.backward(torch.ones_like(yt))
    np.testing.assert_allclose(y.data.astype(np.float64), yt.detach().numpy(), rtol=2e-2, atol=2e-2)
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.data.astype(np.float64), t.grad.numpy(), rtol=3e-2, atol=3e-2)


def test_float16_parameters_train_and_stay_float16() -> None:
    nn = cr.nn
    layer = nn.Linear(4, 2).half()
    opt = cr.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    x = cr.randn(8, 4, dtype="float16")
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = (layer(x) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert all(p.dtype == np.float16 for p in layer.parameters())
    assert losses[-1] < losses[0]


# --- integer tensors never require grad -------------------------------------------------------------------
INT_MAKERS: dict[str, Callable[[], object]] = {
    "tensor(int list)": lambda: cr.tensor([1, 2, 3], requires_grad=True),
    "tensor(bool)": lambda: cr.tensor([True, False], requires_grad=True),
    "tensor(float, dtype=int32)": lambda: cr.tensor([1.5], dtype="int32", requires_grad=True),
    "zeros(int64)": lambda: cr.zeros(2, dtype="int64", requires_grad=True),
    "ones(int32)": lambda: cr.ones(2, dtype=cr.int32, requires_grad=True),
    "full(int)": lambda: cr.full((2,), 3, requires_grad=True),
    "arange(ints)": lambda: cr.arange(5, requires_grad=True),
    "requires_grad_()": lambda: cr.tensor([1, 2]).requires_grad_(),
    "Variable(int, requires_grad=True)": lambda: cr.Variable(np.array([1, 2]), requires_grad=True),
}


@pytest.mark.parametrize("name", list(INT_MAKERS))
def test_integer_tensors_cannot_require_grad(name: str, torch) -> None:
    with pytest.raises(RuntimeError, match=r"floating point.*(int|bool)"):
        INT_MAKERS[name]()
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)


def test_integer_results_of_differentiable_inputs_do_not_require_grad() -> None:
    x = cr.tensor([[0.5, 2.0], [3.0, -1.0]], requires_grad=True)
    for out in (x.argmax(dim=1), x > 0, x.long(), (x * 2).int()):
        assert not out.requires_grad and out.creator is None
    assert cr.Variable(np.array([1, 2])).requires_grad is False  # DeZero's default respects the dtype


def test_integer_parameter_is_refused() -> None:
    nn = cr.nn
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(cr.tensor([1, 2]))


def test_gradcheck_does_not_pass_nan_gradients() -> None:
    """Both sides NaN is a failure, not an agreement (as in torch.autograd.gradcheck)."""
    x = cr.tensor([-1.0, 4.0], dtype="float64", requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert cr.gradcheck(lambda t: t.sqrt(), [x], raise_exception=False) is False
    ok = cr.tensor([1.0, 4.0], dtype="float64", requires_grad=True)
    assert cr.gradcheck(lambda t: t.sqrt(), [ok]) is True
