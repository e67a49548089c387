"""The code cells of seeds 001 and 003 (DeZero steps 1-10), copied as they are, run on chainrule.

Only the imports change: the seeds' own ``class Variable`` / ``class Function`` cells are replaced by
``from chainrule import Variable, Function`` and their ``numerical_diff`` by chainrule's. Cells that define
Square/Exp subclass chainrule's Function exactly as written (``self.input.data``, ndarray maths). One seed
typo is fixed and marked: seed 001's unittest class assigns ``excepted`` but asserts ``expected``.
Values are checked against the seeds' printed outputs and against closed forms: with x = 0.5,
y = (e^(x²))², dy/dx = 4x·e^(2x²) = 2·e^0.5.
"""

from __future__ import annotations

import math
import unittest

import numpy as np

from chainrule import Function, Tensor, Variable
from chainrule.testing import numerical_diff

EXPECTED_GRAD = 3.297442541400256  # printed by both seeds; equals 2·e^0.5
assert abs(EXPECTED_GRAD - 2 * math.exp(0.5)) < 1e-15


# ============================================================================ seed 001
# step 1-2 (In [2]-[10]): Variable holds data; a Function subclass maps it.
def test_001_step1_step2_variable_and_function() -> None:
    # In [3]
    data = np.array(1.0)
    x = Variable(data)
    print(x.data)
    assert x.data == 1.0 and x.data is data

    # In [9]: the first Function subclass (forward only)
    class Square(Function):
        def forward(self, x):
            return x**2

    # In [10]
    x = Variable(np.array(10))
    f = Square()
    y = f(x)
    print(type(y))
    print(y.data)
    assert isinstance(y, Tensor) and y.data == 100
    assert y.data.dtype.kind == "i"  # an integer Variable stays integer (and does not require grad)


class _Square(Function):
    def forward(self, x):
        return x**2


class _Exp(Function):
    def forward(self, x):
        return np.exp(x)


def test_001_step3_composition() -> None:
    Square, Exp = _Square, _Exp
    # In [12]
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)
    print(y.data)
    assert y.data == 1.648721270700128  # the seed's output, = e^0.5
    assert abs(y.data - math.exp(0.5)) < 1e-15


def test_001_step4_numerical_diff() -> None:
    Square, Exp = _Square, _Exp

    # In [15] (its numerical_diff is chainrule.testing.numerical_diff, the same central difference)
    def f(x):
        A = Square()
        B = Exp()
        C = Square()
        return C(B(A(x)))

    x = Variable(np.array(0.5))
    x2 = numerical_diff(Square(), x)
    print("x2: {}".format(x2))  # noqa: UP032
    dy = numerical_diff(f, x)
    print(dy)
    assert abs(x2 - 1.0) < 1e-10  # seed: 0.9999999999998899
    assert abs(dy - 3.2974426293330694) < 1e-9  # the seed's output
    assert abs(dy - EXPECTED_GRAD) < 1e-6


# In [22] (Variable/Function cells replaced by the import): Square and Exp with a backward.
class Square(Function):
    def forward(self, x):
        y = x**2
        return y

    def backward(self, gy):
        x = self.input.data
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        y = np.exp(x)
        return y

    def backward(self, gy):
        x = self.input.data
        gx = np.exp(x) * gy
        return gx


def test_001_step6_manual_backprop() -> None:
    # In [23]
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)

    y.grad = np.array(1.0)
    b.grad = C.backward(y.grad)
    a.grad = B.backward(b.grad)
    x.grad = A.backward(a.grad)
    print(x.grad)
    assert abs(float(x.grad) - EXPECTED_GRAD) < 1e-12
    assert isinstance(y.grad, Tensor)  # assigning an ndarray wraps it


def test_001_step7_creator_chain() -> None:
    # In [25]
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)

    assert y.creator == C
    assert y.creator.input == b
    assert y.creator.input.creator == B
    assert y.creator.input.creator.input == a
    assert y.creator.input.creator.input.creator == A
    assert y.creator.input.creator.input.creator.input == x
    # the asserts above compare values; the links are the very same objects
    assert y.creator.input is b and b.creator.input is a and a.creator.input is x
    assert A.output is a and B.output is b and C.output is y

    # In [32]
    y.grad = np.array(1.0)

    C = y.creator
    b = C.input
    b.grad = C.backward(y.grad)
    print(b.grad)
    B = b.creator
    a = B.input
    a.grad = B.backward(b.grad)
    print(a.grad)
    assert abs(float(b.grad) - 2 * math.exp(0.25)) < 1e-12  # seed: 2.568050833375483
    assert abs(float(a.grad) - EXPECTED_GRAD) < 1e-12


def test_001_step7_recursive_backward() -> None:
    # In [29] (the seed's recursive Variable.backward is chainrule's iterative one)
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)

    y.grad = np.array(1.0)
    y.backward()
    print(x.grad)
    assert abs(float(x.grad) - EXPECTED_GRAD) < 1e-12


def test_001_step8_loop_backward() -> None:
    # In [34]
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)

    y.grad = np.array(1.0)
    y.backward()
    print(x.grad)
    assert abs(float(x.grad) - EXPECTED_GRAD) < 1e-12
    assert a.grad is None and b.grad is None  # intermediate gradients are not kept (torch semantics)


# In [36]: step 9, user friendly (the Variable/Function classes come from chainrule)
def as_array(x):
    if np.isscalar(x):
        return np.array(x)
    return x


def square(x):
    f = Square()
    return f(x)


def exp(x):
    f = Exp()
    return f(x)


def test_001_step9_functions_and_implicit_seed() -> None:
    x = Variable(np.array(0.5))
    y = square(exp(square(x)))
    y.backward()  # 9.2: no need to set y.grad = np.array(1.0)
    assert abs(float(x.grad) - EXPECTED_GRAD) < 1e-12
    assert x.grad.dtype == x.data.dtype  # "np.ones_like(self.data) has same data type"
    assert as_array(1.0).shape == () and isinstance(as_array(np.array(1.0)), np.ndarray)


# In [38]: step 10, unittest (collected and run by pytest as well)
class SquareTest(unittest.TestCase):
    def test_forward(self):
        x = Variable(np.array(2.0))
        y = square(x)
        expected = np.array(4.0)
        self.assertEqual(y.data, expected)

    def test_backward(self):
        x = Variable(np.array(3.0))
        y = square(x)
        y.backward()
        expected = np.array(6.0)  # the seed wrote `excepted` here, then asserted `expected`
        self.assertEqual(x.grad, expected)

    def test_gradient_check(self):
        x = Variable(np.random.rand(1))
        y = square(x)
        y.backward()
        num_grad = numerical_diff(square, x)
        flg = np.allclose(x.grad, num_grad)
        self.assertTrue(flg)


# ============================================================================ seed 003
# In [4]-[5] (In [2]/[3], the Variable and Function classes, are the import)
class Square003(Function):
    def forward(self, input_data):
        """

        :param input_data: any data, or `x`
        :return: output, or `y`
        """
        output = input_data**2
        return output

    def backward(self, output_data):
        """

        :param output_data: `gy`
        :return: grad_input, or `gx`
        """
        input_data = self.input.data
        grad_input = 2 * input_data * output_data
        return grad_input


class Exp003(Function):
    def forward(self, input_data):
        return np.exp(input_data)

    def backward(self, output_data):
        input_data = self.input.data
        grad_input = np.exp(input_data) * output_data
        return grad_input


def test_003_backward_and_numerical_diff() -> None:
    Square, Exp = Square003, Exp003

    # In [6]
    A = Square()
    B = Exp()
    C = Square()

    x = Variable(np.array(0.5))
    a = A(x)
    b = B(a)
    y = C(b)

    # In [7]
    y.grad = np.array(1.0)
    y.backward()
    print(x.grad)
    assert abs(float(x.grad) - EXPECTED_GRAD) < 1e-12

    # In [8]: numerical_diff is chainrule's (the seed's default eps was 1e-6, chainrule's is 1e-4)
    # In [9]
    f = Square()
    x_nd = Variable(np.array(2.0))
    dy = numerical_diff(f, x_nd)
    print(dy)
    assert abs(dy - 4.0) < 1e-6  # seed: 4.000000000115023

    # In [10]
    def f(x):
        A = Square()
        B = Exp()
        C = Square()
        return C(B(A(x)))

    # In [11]
    x_nd2 = Variable(np.array(0.5))
    dy = numerical_diff(f, x_nd2)
    print(dy)
    assert abs(dy - EXPECTED_GRAD) < 1e-6  # seed: 3.297442541350115

    # In [12]
    assert dy - x.grad < 1e-6
    assert abs(dy - x.grad) < 1e-6


def test_003_seed_eps_numerical_diff_is_close_too() -> None:
    """The seed's own eps=1e-6 through chainrule's numerical_diff."""
    x = Variable(np.array(0.5))
    y = Square003()(Exp003()(Square003()(x)))
    y.backward()
    dy = numerical_diff(lambda v: Square003()(Exp003()(Square003()(v))), Variable(np.array(0.5)), eps=1e-6)
    assert abs(dy - float(x.grad)) < 1e-6
