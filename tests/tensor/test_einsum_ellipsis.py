"""``einsum`` with ``...`` (and broadcasting of size-1 dimensions), against ``torch.einsum`` in float64:
values, gradients, numerical gradients, and the errors for malformed equations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.testing import gradcheck, gradgradcheck

CASES = [
    ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(4, 2, 3), (4, 3, 2)]),
    ("...ij->ij", [(2, 5, 2, 3)]),
    ("...ij->...", [(2, 5, 2, 3)]),
    ("...ij->...ji", [(2, 2, 3)]),
    ("ij->...ij", [(2, 3)]),
    ("...", [(2, 3)]),
    ("...->", [(2, 3)]),
    ("...ii->...i", [(4, 3, 3)]),
    ("ii...->i...", [(3, 3, 2)]),
    ("...ii", [(2, 3, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("ba...", [(2, 3, 4)]),
    ("...,...", [(2, 3), (3,)]),
    ("b...a->...ab", [(2, 3, 4, 5)]),
    ("i...j,j...k->...ik", [(2, 3, 4), (4, 3, 5)]),
    ("i...j,j...k", [(2, 3, 4), (4, 1, 5)]),
    ("... ij , ...jk", [(2, 2, 3), (3, 4)]),
    ("ij...,jk", [(2, 3, 4), (3, 5)]),
    ("a...,a...->...", [(2, 3), (2, 1)]),
    ("...i,...i", [(2, 3), (2, 3)]),
    ("...i,...i->...", [(1, 3), (4, 3)]),
    ("...ij,...jk,...kl->...il", [(2, 1, 2, 3), (3, 4), (1, 5, 4, 2)]),
    ("...ab,...bc->...ac", [(0, 2, 3), (1, 3, 4)]),
    ("Ab...,ab", [(2, 3), (4, 3)]),
    # named dimensions of size 1 broadcast too, as in torch
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("ij,ij->ij", [(2, 1), (1, 3)]),
]


def _compare(torch: Any, equation: str, shapes: list[tuple[int, ...]], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = cr.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert y.shape == tuple(ty.shape), (equation, y.shape, tuple(ty.shape))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(y.shape)
    grads = cr.grad((y * cr.tensor(w)).sum(), ours)
    tgrads = torch.autograd.grad((ty * torch.tensor(w)).sum(), theirs)
    for g, tg, a in zip(grads, tgrads, arrays):
        assert g.shape == a.shape
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12, atol=1e-12, err_msg=equation)


@pytest.mark.parametrize(("equation", "shapes"), CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(torch: Any, equation: str, shapes: list[tuple[int, ...]]) -> None:
    _compare(torch, equation, shapes)


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
        ("...ii->...i", [(2, 3, 3)]),
        ("i...,i...", [(2, 3), (2, 1)]),
    ],
)
def test_gradcheck_and_gradgradcheck(equation: str, shapes: list[tuple[int, ...]]) -> None:
    rng = np.random.default_rng(1)
    xs = [cr.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(lambda *t: cr.einsum(equation, *t), xs)
    assert gradgradcheck(lambda *t: cr.einsum(equation, *t), xs)


# Patterns for hypothesis: (equation, named sizes per operand as letters); the batch dims come from `...`.
PATTERNS = [
    ("...ij,...jk->...ik", ["ij", "jk"]),
    ("...i,...i->...", ["i", "i"]),
    ("...ij->...ji", ["ij"]),
    ("i...,i...", ["i", "i"]),
    ("...ij,...j", ["ij", "j"]),
    ("b...,...->b...", ["b", ""]),
]


@given(data=st.data())
def test_random_broadcast_batches_match_torch(torch: Any, data: Any) -> None:
    equation, named = data.draw(st.sampled_from(PATTERNS), label="pattern")
    size = {c: data.draw(st.integers(1, 3), label=c) for c in "ijkb"}
    batch = data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=3), label="batch")
    shapes = []
    for letters in named:
        # each operand keeps a suffix of the batch dims, some of them squeezed to 1 (they broadcast)
        keep = data.draw(st.integers(0, len(batch)), label="batch dims kept")
        dims = [d if data.draw(st.booleans(), label="full") else 1 for d in batch[len(batch) - keep :]]
        named_dims = [size[c] for c in letters]
        shapes.append(
            tuple(named_dims + dims) if equation.startswith(("i...", "b...")) else tuple(dims + named_dims)
        )
    _compare(torch, equation, shapes, seed=len(shapes))


@pytest.mark.parametrize(
    ("equation", "shapes", "match"),
    [
        ("...ij,...jk->...ik", [(3,), (3, 4)], "name 2 dimensions"),
        ("..i", [(2,)], "invalid subscripts"),
        ("...i...", [(2, 3)], "invalid subscripts"),
        ("i->ii", [(2,)], "more than once"),
        ("ij->k", [(2, 3)], "in no input"),
        ("ij", [(2, 3, 4)], "do not match"),
        ("i,j", [(2,)], "operands"),
        ("ii->i", [(2, 1)], r"'i'.*\(2, 1\)"),
        ("...ij,...jk", [(2, 2, 3), (3, 3, 4)], r"'\.\.\.' dimension -1.*\(2, 2, 3\).*\(3, 3, 4\)"),
    ],
)
def test_malformed_equations_are_clear_value_errors(
    torch: Any, equation: str, shapes: list[tuple[int, ...]], match: str
) -> None:
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(s) for s in shapes])
    with pytest.raises(ValueError, match=match):
        cr.einsum(equation, *[cr.ones(*s) for s in shapes])
