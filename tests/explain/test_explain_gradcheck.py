"""``chainrule.testing``: numerical_diff, numerical_grad, gradcheck and gradgradcheck (docs/gradcheck.md)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function, Variable
from chainrule.testing import GradcheckError, numerical_grad


class _MulWrongAt10(Function):
    """a * b whose gradient for b is doubled at element (1, 0): a bug confined to one element."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        mask = np.zeros(b.shape)
        mask[1, 0] = 1.0
        return gy * b, gy * a * cr.tensor(1.0 + mask, dtype="float64")


class _SinDetached(Function):
    """sin with a backward that is right once but not differentiable again (it detaches x)."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        return gy * cr.cos(self.inputs[0].detach())


def _inputs():
    rng = np.random.default_rng(3)
    a = cr.tensor(rng.uniform(-1, 1, (2, 2)), dtype="float64", requires_grad=True)
    b = cr.tensor(rng.uniform(-1, 1, (2, 2)), dtype="float64", requires_grad=True)
    return a, b


def test_numerical_diff_on_the_seed_example():
    x = Variable(np.array(0.5))
    dy = cr.numerical_diff(lambda v: cr.square(cr.exp(cr.square(v))), x)
    assert float(dy) == pytest.approx(4 * 0.5 * math.exp(0.5), rel=1e-7)  # 3.2974425414…


def test_numerical_grad_matches_torch(torch):
    a, b = _inputs()
    grads = numerical_grad(lambda p, q: (p @ q).tanh().sum(), [a, b])
    ta, tb = (torch.tensor(t.data, requires_grad=True) for t in (a, b))
    (ta @ tb).tanh().sum().backward()
    np.testing.assert_allclose(grads[0], ta.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grads[1], tb.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(a.data, _inputs()[0].data)  # inputs restored after perturbation


def test_gradcheck_passes_for_correct_ops():
    a, b = _inputs()
    assert cr.gradcheck(lambda p, q: (p * q).sigmoid() / (q * q + 1), [a, b])
    assert cr.gradcheck(lambda p, q: ((p @ q).exp().sum(dim=0), p.tanh()), [a, b])  # several outputs


def test_gradcheck_catches_a_wrong_backward_and_names_input_element_and_values():
    a, b = _inputs()
    with pytest.raises(GradcheckError) as info:
        cr.gradcheck(lambda p, q: _MulWrongAt10()(p, q), [a, b])
    msg = str(info.value)
    assert "input 1" in msg and "element (1, 0)" in msg and "1 of 4 elements differ" in msg
    found = re.search(r"analytic (\S+) vs numerical (\S+)", msg)
    assert found, msg
    analytic, numerical = float(found.group(1)), float(found.group(2))
    assert analytic == pytest.approx(2 * numerical, rel=1e-6)  # the bug doubles this element's gradient
    assert cr.gradcheck(lambda p, q: _MulWrongAt10()(p, q), [a, b], raise_exception=False) is False
    # the correct input passes on its own
    b.requires_grad = False
    assert cr.gradcheck(lambda p, q: _MulWrongAt10()(p, q), [a, b])


def test_gradcheck_needs_float64_and_a_differentiable_input():
    with pytest.raises(TypeError, match="float64"):
        cr.gradcheck(lambda p: p * 2, [cr.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        cr.gradcheck(lambda p: p * 2, [cr.tensor([1.0], dtype="float64")])


def test_gradgradcheck_checks_second_derivatives():
    a, _ = _inputs()
    assert cr.gradgradcheck(lambda p: (p.tanh() * p).sum(), [a])
    assert cr.gradgradcheck(lambda p: p.sin(), [a])
    assert cr.gradcheck(lambda p: _SinDetached()(p), [a])  # first derivative right ...
    with pytest.raises(GradcheckError, match=r"second derivative mismatch for input 0 at element \(0, 0\)"):
        cr.gradgradcheck(lambda p: _SinDetached()(p), [a])  # ... but not differentiable again


def test_numerical_check_does_not_pass_nan_gradients():
    """(-1) ** 0.5 is NaN: its gradient is undefined, so the step must not be reported as agreeing."""
    import numpy as np

    import chainrule as cr

    x = cr.tensor(-1.0, dtype="float64", requires_grad=True, name="x")
    y = cr.tensor(0.5, dtype="float64", requires_grad=True, name="y")
    with np.errstate(invalid="ignore"):
        report = cr.explain(x**y, numerical_check=True)
    assert report.ok is False


def test_numerical_grad_perturbs_non_contiguous_inputs():
    """A transposed (non-contiguous) input must be perturbed in place, not through a reshaped copy."""
    import numpy as np

    import chainrule as cr

    base = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = cr.Tensor(base.T, requires_grad=True)  # a non-contiguous view
    assert not x.data.flags.c_contiguous
    (g,) = cr.numerical_grad(lambda t: (t * t).sum(), [x])
    np.testing.assert_allclose(g, 2 * base.T, atol=1e-6)
    assert cr.gradcheck(lambda t: (t * t.sin()).sum(), [x])
