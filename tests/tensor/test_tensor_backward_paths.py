"""The fast array backward (create_graph=False) and the recorded one (create_graph=True) agree bit for bit,
and in-place gradient accumulation never writes into an array someone else holds."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

CASES = {
    "tiny": (lambda a, b: (a * b + a).sum(), [(8,), (8,)]),
    "broadcast": (lambda a, b: (a * b - b + 2.0 * a).exp().sum(), [(3, 4), (4,)]),
    "tanh_relu": (lambda a, b: (a.tanh() * b).relu().sum(), [(5, 6), (5, 6)]),
    "sum_keepdim": (lambda a, b: (a.sum(dim=1, keepdim=True) * b).sum(dim=0).sum(), [(4, 5), (4, 5)]),
    "sum_tuple_axes": (lambda a, b: (a.sum(dim=(0, 2)) * b).sum(), [(3, 4, 5), (4,)]),
    "matmul": (lambda a, b: (a @ b).tanh().sum(), [(6, 7), (7, 3)]),
    "matmul_batched": (lambda a, b: (a @ b).sum(), [(2, 6, 7), (7, 3)]),
    "matmul_1d": (lambda a, b: (a @ b).sum(), [(7,), (7, 3)]),
    "reshape": (lambda a, b: (a.reshape(4, 3) * b).sum(), [(12,), (4, 3)]),
    "neg_sub": (lambda a, b: (-(a - b) * a).sum(), [(5,), (5,)]),
    "reuse": (lambda a, b: (a * a * a + a * b + b).sum(), [(5,), (5,)]),
    "scalars": (lambda a, b: (a * 3.0 + 1.0 - b * 0.5).exp().sum(), [(), ()]),
    "mean": (lambda a, b: (a * b).mean(), [(4, 5), (4, 5)]),
}


def _grads(fn, shapes, create_graph, dtype):
    rng = np.random.default_rng(0)
    xs = [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    fn(*xs).backward(create_graph=create_graph)
    return [x.grad.data.copy() for x in xs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_array_and_recorded_backward_agree_bit_for_bit(case, dtype):
    fn, shapes = CASES[case]
    fast = _grads(fn, shapes, False, dtype)
    recorded = _grads(fn, shapes, True, dtype)
    for u, v in zip(fast, recorded):
        assert u.dtype == v.dtype == dtype
        assert u.shape == v.shape
        assert np.array_equal(u, v)


def test_accumulation_across_calls_keeps_leaves_independent():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient array to both inputs
    (a + b).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0] and b.grad.tolist() == [2.0, 2.0]
    (a * 1.0 + b).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [3.0, 3.0]


def test_a_user_assigned_grad_array_is_never_written_to():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    held = np.zeros(2, np.float32)
    a.grad = cr.tensor(held)
    (a * 2.0).sum().backward()
    assert held.tolist() == [0.0, 0.0]
    assert a.grad.tolist() == [2.0, 2.0]


def test_a_held_grad_sees_later_accumulation_like_torch(torch):
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    (ta * 2).sum().backward()
    held_torch = ta.grad
    (ta * 2).sum().backward()
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    (a * 2.0).sum().backward()
    held = a.grad
    (a * 2.0).sum().backward()
    assert held.tolist() == held_torch.tolist() == [4.0, 4.0]
