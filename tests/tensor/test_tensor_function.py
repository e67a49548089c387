"""The ``Function`` base: forward on arrays, backward on Tensors, the links it records, user subclasses."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function, Tensor


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.input * gy


class AddMul(Function):
    """Two inputs, two outputs: (a + b, a * b)."""

    def forward(self, a, b):
        return a + b, a * b

    def backward(self, g_sum, g_prod):
        a, b = self.inputs
        return g_sum + g_prod * b, g_sum + g_prod * a


class Sum3(Function):
    """Three inputs, one output."""

    uses_inputs = False

    def forward(self, a, b, c):
        return a + b + c

    def backward(self, gy):
        return gy, gy, gy


def test_forward_receives_arrays_and_backward_receives_tensors() -> None:
    seen = {}

    class Probe(Function):
        def forward(self, x):
            seen["forward"] = type(x)
            return x * 3

        def backward(self, gy):
            seen["backward"] = type(gy)
            return gy * 3

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Probe()(x)
    y.sum().backward()
    assert seen == {"forward": np.ndarray, "backward": Tensor}
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_links_input_output_creator_generation() -> None:
    x = cr.tensor(3.0, requires_grad=True)
    f = Square()
    y = f(x)
    assert y.creator is f and y.grad_fn is f and not y.is_leaf
    assert f.input is x and f.inputs == (x,)
    assert f.output is y and f.outputs == [y]
    assert f.needs_input_grad == (True,)
    assert f.generation == 0 and y.generation == 1
    z = Square()(y)
    assert z.creator.generation == 1 and z.generation == 2


def test_many_inputs_and_outputs() -> None:
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 5.0], requires_grad=True)
    f = AddMul()
    s, p = f(a, b)
    assert f.outputs == [s, p] and s.creator is f and p.creator is f
    with pytest.raises(AttributeError, match=r"use \.outputs"):
        _ = f.output
    with pytest.raises(AttributeError, match=r"use \.inputs"):
        _ = f.input
    (s.sum() * 2 + p.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2 + b.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), 2 + a.numpy())
    c = cr.tensor([1.0, 1.0], requires_grad=True)
    Sum3()(a, b, c).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [1.0, 1.0])


def test_unused_output_of_a_multi_output_function_gets_a_zero_gradient() -> None:
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 5.0], requires_grad=True)
    _, p = AddMul()(a, b)
    p.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.numpy())


def test_outputs_are_weakly_referenced_and_inputs_strongly() -> None:
    x = cr.tensor([1.0], requires_grad=True)
    f = Square()
    y = f(x)
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None and f.outputs == [None]
    assert f.inputs[0] is x


def test_graph_is_freed_by_reference_counting_without_the_collector() -> None:
    x = cr.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50):
        y = Square()(y)
    f_ref = weakref.ref(y.creator)
    gc.disable()
    try:
        del y
        assert f_ref() is None  # no reference cycles: freed at once
    finally:
        gc.enable()


def test_broadcast_gradient_is_summed_back_automatically() -> None:
    class BroadcastMul(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            a, b = self.inputs
            return gy * b, gy * a  # full broadcast shape; the engine sums to each input's shape

    a = cr.tensor(np.ones((2, 3)), requires_grad=True)
    b = cr.tensor(np.arange(3.0), requires_grad=True)
    c = cr.tensor(np.array(2.0), requires_grad=True)
    BroadcastMul()(BroadcastMul()(a, b), c).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,) and c.grad.shape == ()
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0, 4.0])
    assert float(c.grad) == 6.0


def test_backward_returning_a_wrong_shape_or_count_raises() -> None:
    class BadShape(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, gy):
            return cr.ones(5)

    class BadCount(Function):
        def forward(self, x):
            return x * 1

        def backward(self, gy):
            return gy, gy

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadShape\.backward returned a gradient of shape"):
        BadShape()(x).backward()
    with pytest.raises(RuntimeError, match="2 gradients for 1 inputs"):
        BadCount()(x).sum().backward()


def test_user_backward_may_return_arrays_numbers_or_none() -> None:
    class ArrayGrad(Function):
        def forward(self, x, y):
            return x * 2 + y

        def backward(self, gy):
            return np.full(gy.shape, 2.0) * gy.data, None

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    ArrayGrad()(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert y.grad is None


def test_float64_gradient_from_a_user_backward_is_cast_to_the_float32_input() -> None:
    class Float64Grad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return Tensor(np.full(gy.shape, 2.0, dtype=np.float64))

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Float64Grad()(x) * 1.0
    y.sum().backward()
    assert x.grad.dtype == np.float32 and y.dtype == np.float32


def test_user_subclass_works_like_a_builtin_including_higher_order(torch) -> None:  # noqa: ANN001
    class Cube(Function):
        def forward(self, x):
            return x**3

        def backward(self, gy):
            (x,) = self.inputs
            return gy * 3 * x * x

    x = cr.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    (g,) = cr.grad(Cube()(x).sum(), x, create_graph=True)
    (gg,) = cr.grad(g.sum(), x)
    t = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad((t**3).sum(), t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), t)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach())
    np.testing.assert_allclose(gg.numpy(), tgg)
    assert cr.gradcheck(lambda v: Cube()(v), [x])
    assert cr.gradgradcheck(lambda v: Cube()(v), [x])


def test_no_graph_is_recorded_without_grad() -> None:
    x = cr.tensor([1.0, 2.0])
    f = Square()
    y = f(x)
    assert y.creator is None and not y.requires_grad and f.inputs is None
    with cr.no_grad():
        y = Square()(cr.tensor([1.0], requires_grad=True))
    assert y.creator is None and not y.requires_grad


def test_integer_outputs_do_not_require_grad() -> None:
    class ArgMaxAndMax(Function):
        def forward(self, x):
            return x.max(), np.argmax(x)

        def backward(self, g_max, g_idx):
            (x,) = self.inputs
            mask = np.zeros(x.shape, dtype=x.dtype)
            mask[int(np.argmax(x.data))] = 1
            return g_max * cr.tensor(mask)

    x = cr.tensor([1.0, 3.0, 2.0], requires_grad=True)
    m, i = ArgMaxAndMax()(x)
    assert m.requires_grad and not i.requires_grad and i.creator is None
    m.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_forward_value_error_names_the_function_and_input_shapes() -> None:
    a, b = cr.ones(2, 3), cr.ones(4)
    with pytest.raises(ValueError, match=r"AddMul.*\(2, 3\) and \(4,\)"):
        AddMul()(a, b)


def test_set_creator_dezero_name() -> None:
    f = Square()
    x = cr.tensor(2.0, requires_grad=True)
    f(x)
    t = cr.tensor(4.0)
    t.set_creator(f)
    assert t.creator is f and t.generation == f.generation + 1


def test_base_class_methods_must_be_overridden() -> None:
    with pytest.raises(NotImplementedError, match="forward"):
        Function()(cr.tensor(1.0))
    f = Function()
    with pytest.raises(NotImplementedError, match="backward"):
        f.backward(cr.tensor(1.0))
