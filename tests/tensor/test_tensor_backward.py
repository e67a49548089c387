"""``Tensor.backward`` semantics (PyTorch's) and the backprop algorithm: order, depth, width, accumulation."""

from __future__ import annotations

import gc
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function


class Step(Function):
    """y = x + 1, the cheapest possible node: isolates the engine's own cost."""

    uses_inputs = False

    def forward(self, x):
        return x + 1

    def backward(self, gy):
        return gy


def test_implicit_gradient_only_for_single_element_outputs(torch) -> None:  # noqa: ANN001
    for shape in [(), (1,), (1, 1)]:
        x = cr.ones(shape, requires_grad=True)
        (x * 3).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, 3.0))
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="single-element"):
        (x * 3).backward()
    with pytest.raises(RuntimeError):
        (torch.ones(2, requires_grad=True) * 3).backward()
    with pytest.raises(RuntimeError, match="single-element"):
        (cr.ones(0, requires_grad=True) * 3).backward()


def test_explicit_gradient_tensor_array_or_number() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(cr.tensor([1.0, 0.5]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    (x * x).backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    x.grad = None
    (x * x).sum().backward(2.0)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * x).backward(cr.ones(3))


def test_backward_through_a_freed_graph_raises_unless_retained(torch) -> None:  # noqa: ANN001
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    t = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    ty = (t * t).sum()
    ty.backward()
    with pytest.raises(RuntimeError):
        ty.backward()

    x.grad = None
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])  # accumulated twice


def test_an_op_that_needs_no_saved_values_still_refuses_a_second_pass() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()


def test_backward_of_a_tensor_that_does_not_require_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()


def test_intermediate_grads_are_kept_only_with_retain_grad(torch) -> None:  # noqa: ANN001
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = h.exp()
    k.retain_grad()
    k.sum().backward()
    assert h.grad is None and not h.retains_grad
    assert k.retains_grad
    np.testing.assert_array_equal(k.grad.numpy(), [1.0, 1.0])
    t = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    th = t * 2
    tk = th.exp()
    tk.retain_grad()
    tk.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError):
        cr.tensor(1.0).retain_grad()


def test_grad_is_a_tensor_accumulates_and_resets() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for k in range(1, 4):
        (x * x).sum().backward()
        assert isinstance(x.grad, cr.Tensor) and x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad.numpy(), k * 2 * x.numpy())
    x.grad = None
    assert x.grad is None
    x.grad = np.array([5.0, 6.0])
    assert isinstance(x.grad, cr.Tensor) and x.grad.dtype == np.float32
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 7.0])
    with pytest.raises(RuntimeError, match="shape"):
        x.grad = np.zeros(3)
    x.zero_grad()
    assert x.grad is None


def test_leaf_grads_do_not_require_grad_unless_create_graph() -> None:
    x = cr.tensor(2.0, requires_grad=True)
    (x**3).backward()
    assert not x.grad.requires_grad
    x.grad = None
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad and float(x.grad) == 12.0
    (g2,) = cr.grad(x.grad, x)
    assert float(g2) == 12.0


def test_only_tensors_that_require_grad_get_grads() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    d = x.detach()
    assert not d.requires_grad and d.creator is None
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 6.0])


def test_shared_subexpressions_match_torch(torch) -> None:  # noqa: ANN001
    """A diamond and a re-used node: each function runs once, after all its consumers."""

    def f(m, x):  # noqa: ANN001
        a = x * x
        b = a.exp() if m is cr else torch.exp(a)
        c = a * b + a
        d = (c.sin() if m is cr else torch.sin(c)) * a + b * c
        return (d + a).sum()

    x = cr.tensor([0.3, -0.7, 0.1], dtype="float64", requires_grad=True)
    t = torch.tensor([0.3, -0.7, 0.1], dtype=torch.float64, requires_grad=True)
    f(cr, x).backward()
    f(torch, t).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_each_function_backward_runs_once_in_generation_order() -> None:
    calls: list[str] = []

    class Tag(Function):
        def __init__(self, tag: str) -> None:
            self.tag = tag

        def forward(self, *xs):
            return sum(xs[1:], xs[0])

        def backward(self, gy):
            calls.append(self.tag)
            return (gy,) * len(self.inputs)

    x = cr.tensor(1.0, requires_grad=True)
    a = Tag("a")(x)
    b = Tag("b")(a)
    c = Tag("c")(b)  # long branch a -> b -> c
    d = Tag("d")(a, c)  # joins the short branch
    e = Tag("e")(d, a, b)
    e.backward()
    assert sorted(calls) == ["a", "b", "c", "d", "e"]
    assert calls.index("a") == 4 and calls.index("b") > calls.index("c")
    assert float(x.grad) == 1 + 1 + 1 + 1  # paths: e-d-a, e-d-c-b-a, e-a, e-b-a


def test_million_deep_chain_needs_no_recursion() -> None:
    """10^6 nodes, far beyond the recursion limit; build + backprop stay linear (about 10 s here)."""
    n = 1_000_000
    assert n > 100 * sys.getrecursionlimit()
    x = cr.tensor(0.0, dtype="float64", requires_grad=True)
    y = x
    gc.disable()  # the graph has no reference cycles: the cyclic collector's scans would only cost time
    try:
        for _ in range(n):
            y = Step()(y)
    finally:
        gc.enable()
    assert y.generation == n and float(y) == n
    y.backward()
    assert float(x.grad) == 1.0


def test_deep_chain_of_real_ops_matches_the_closed_form() -> None:
    n = 20_000
    x = cr.tensor(0.5, dtype="float64", requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    y.backward()
    assert abs(float(x.grad) - 1.0001**n) < 1e-9 * 1.0001**n


def test_wide_sum_of_eight_thousand_terms_is_fast() -> None:
    xs = [cr.tensor(float(i), requires_grad=True) for i in range(8000)]
    start = time.perf_counter()
    total = xs[0]
    for v in xs[1:]:
        total = total + v * 2.0
    total.backward()
    assert time.perf_counter() - start < 10  # quadratic engines take minutes here
    assert all(float(v.grad) == 2.0 for v in xs[1:]) and float(xs[0].grad) == 1.0

    x = cr.tensor(1.0, dtype="float64", requires_grad=True)  # one input fanned out 8000 times
    start = time.perf_counter()
    total = cr.stack([x * float(i) for i in range(8000)]).sum()
    total.backward()
    assert time.perf_counter() - start < 10
    assert float(x.grad) == sum(range(8000))


def test_autograd_backward_of_several_outputs(torch) -> None:  # noqa: ANN001
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * x, x.exp()
    cr.autograd_backward([a.sum(), b], [None, cr.tensor([1.0, 2.0])])
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + np.exp(x.numpy()) * [1.0, 2.0], rtol=1e-6)


def test_y_grad_assignment_then_backward_seeds_with_it() -> None:
    """DeZero's idiom ``y.grad = np.array(1.0); y.backward()`` seeds the pass with the assigned gradient."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.grad = np.array([1.0, 10.0])
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 40.0])


def test_float32_graph_with_float64_seed_keeps_float32_grads() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 1.0], dtype=np.float64))
    assert x.grad.dtype == np.float32
