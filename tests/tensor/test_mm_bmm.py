"""``mm`` (matrices only) and ``bmm`` (batches of matrices, no broadcasting) against torch: values, both
gradients, second order, and torch's refusals as clear RuntimeErrors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.testing import gradcheck, gradgradcheck


@given(
    b=st.integers(1, 3),
    n=st.integers(1, 4),
    k=st.integers(1, 4),
    p=st.integers(1, 4),
    seed=st.integers(0, 99),
)
def test_bmm_and_mm_match_torch(torch, b, n, k, p, seed) -> None:
    rng = np.random.default_rng(seed)
    for shapes, name in (([(b, n, k), (b, k, p)], "bmm"), ([(n, k), (k, p)], "mm")):
        xs = [rng.standard_normal(s) for s in shapes]
        ours = [cr.tensor(x, requires_grad=True) for x in xs]
        theirs = [torch.tensor(x, requires_grad=True) for x in xs]
        y, ty = getattr(cr, name)(*ours), getattr(torch, name)(*theirs)
        gy = rng.standard_normal(ty.shape)
        y.backward(cr.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_methods_and_second_order() -> None:
    rng = np.random.default_rng(0)
    a = cr.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((2, 4, 2)), requires_grad=True)
    np.testing.assert_allclose(a.bmm(b).data, np.matmul(a.data, b.data))
    np.testing.assert_allclose(a[0].mm(b[0]).data, a.data[0] @ b.data[0])
    assert gradcheck(cr.bmm, [a, b])
    assert gradgradcheck(cr.bmm, [a, b])
    assert gradcheck(cr.mm, [a[0].detach().requires_grad_(), b[0].detach().requires_grad_()])


@pytest.mark.parametrize(
    ("name", "shapes", "match"),
    [
        ("mm", [(3,), (3, 2)], r"two matrices \(2-D\), got shapes \(3,\) and \(3, 2\)"),
        ("mm", [(2, 2, 3), (3, 2)], "two matrices"),
        ("mm", [(2, 3), (2, 2)], r"cannot be multiplied \(3 != 2\)"),
        ("bmm", [(2, 3), (3, 2)], r"3-D tensors \(batch, n, k\), got shapes \(2, 3\) and \(3, 2\)"),
        ("bmm", [(2, 2, 3), (3, 3, 2)], r"expected the second as \(2, 3, p\)"),
        ("bmm", [(1, 2, 3), (2, 3, 2)], "do not fit"),  # torch does not broadcast the batch either
    ],
)
def test_refusals_name_the_shapes(torch, name, shapes, match) -> None:
    with pytest.raises(RuntimeError):
        getattr(torch, name)(*[torch.ones(s) for s in shapes])
    with pytest.raises(RuntimeError, match=match):
        getattr(cr, name)(*[cr.ones(*s) for s in shapes])
