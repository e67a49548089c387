"""Indexing with torch's rules (an int is basic indexing even next to index arrays), reads, writes and
gradients, against torch on random keys mixing ints, slices, lists, tensors, masks, None and Ellipsis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SHAPE = (3, 4, 5)


@st.composite
def keys(draw: Any) -> list[tuple[str, Any]]:
    """A key as (kind, value) items over SHAPE (each consumes at most one dim), maybe with an Ellipsis."""
    items: list[tuple[str, Any]] = []
    i = 0
    while i < len(SHAPE):
        n = SHAPE[i]
        kind = draw(st.sampled_from(["int", "int_tensor", "slice", "list", "tensor", "none", "stop", "mask"]))
        if kind == "stop":
            break
        if kind == "none":
            items.append(("none", None))
            continue
        if kind in ("int", "int_tensor"):  # a 0-d integer tensor indexes like an int in torch
            items.append((kind, draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            items.append(("slice", slice(draw(st.integers(0, n - 1)), None, draw(st.sampled_from([1, 2])))))
        elif kind in ("list", "tensor"):
            items.append((kind, draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
        else:
            items.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        i += 1
    if draw(st.booleans()):  # an Ellipsis: anywhere when it stands for no dim, else after the items
        at = draw(st.integers(0, len(items))) if i == len(SHAPE) else len(items)
        items.insert(at, ("ellipsis", None))
    return items


def _key(m: Any, items: list[tuple[str, Any]]) -> tuple:
    out: list[Any] = []
    for kind, v in items:
        if kind == "ellipsis":
            out.append(Ellipsis)
        elif kind == "none":
            out.append(None)
        elif kind in ("tensor", "int_tensor"):
            out.append(m.tensor(v))
        elif kind == "mask":
            out.append(m.tensor(v))
        else:
            out.append(v)
    return tuple(out)


def _arrays(m: Any) -> Any:
    return m.tensor(np.arange(60.0).reshape(SHAPE), dtype=m.float64, requires_grad=True)


def _broadcastable(items: list[tuple[str, Any]]) -> bool:
    """Index arrays must broadcast together (torch and NumPy both refuse otherwise)."""
    lens = [len(v) if k != "mask" else int(np.sum(v)) for k, v in items if k in ("list", "tensor", "mask")]
    return len({n for n in lens if n != 1}) <= 1


@settings(max_examples=60)
@given(items=keys())
def test_reads_and_gradients_match_torch(items: list[tuple[str, Any]], torch: Any) -> None:
    if not _broadcastable(items):
        return
    x_t, x_c = _arrays(torch), _arrays(cr)
    y_t, y_c = x_t[_key(torch, items)], x_c[_key(cr, items)]
    assert tuple(y_t.shape) == y_c.shape, items
    np.testing.assert_array_equal(y_c.detach().numpy(), y_t.detach().numpy())
    w = np.random.default_rng(0).normal(size=y_c.shape)
    (y_t * torch.tensor(w)).sum().backward()
    (y_c * cr.tensor(w)).sum().backward()
    np.testing.assert_allclose(x_c.grad.numpy(), x_t.grad.numpy(), rtol=1e-12)


@settings(max_examples=60)
@given(items=keys())
def test_writes_match_torch(items: list[tuple[str, Any]], torch: Any) -> None:
    if not _broadcastable(items):
        return
    x_t, x_c = torch.zeros(SHAPE, dtype=torch.float64), cr.zeros(SHAPE, dtype=cr.float64)
    shape = tuple(x_t[_key(torch, items)].shape)
    v = np.arange(float(np.prod(shape))).reshape(shape) + 1
    x_t[_key(torch, items)] = torch.tensor(v)
    x_c[_key(cr, items)] = cr.tensor(v)
    np.testing.assert_array_equal(x_c.numpy(), x_t.numpy())


def test_the_issue_case_int_next_to_a_list(torch: Any) -> None:
    a = np.arange(16.0).reshape(2, 2, 4)  # a square shape: NumPy's rule would give transposed values
    t, c = torch.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
    y_t, y_c = t[0, :, [0, 1]], c[0, :, [0, 1]]
    assert y_c.shape == (2, 2) == tuple(y_t.shape)
    np.testing.assert_array_equal(y_c.detach().numpy(), y_t.detach().numpy())
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    (y_t * torch.tensor(w)).sum().backward()
    (y_c * cr.tensor(w)).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


def test_recorded_write_with_an_int_and_a_list(torch: Any) -> None:
    def run(m: Any) -> tuple[np.ndarray, np.ndarray]:
        a = m.tensor(np.arange(24.0).reshape(2, 3, 4), dtype=m.float64, requires_grad=True)
        v = m.tensor([[1.0, 2.0]] * 3, dtype=m.float64, requires_grad=True)
        y = a * 1
        y[1, :, [0, 3]] = v * 2
        (y * y).sum().backward()
        return a.grad.numpy(), v.grad.numpy()

    for o, t in zip(run(cr), run(torch)):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_repeated_indices_accumulate_gradients_and_last_write_wins(torch: Any) -> None:
    for m in (cr, torch):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        x[[0, 0, 2]].sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])
    c, t = cr.zeros(3), torch.zeros(3)
    c[[1, 1]] += 1.0  # read, add, write back: no accumulation, as in torch
    t[[1, 1]] += 1.0
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("key", [(0, Ellipsis, [1, 2]), ([1], 0, [0, 2]), (Ellipsis, 1, [[0], [2]])])
def test_writes_with_ints_and_lists_like_torch(key: tuple, torch: Any) -> None:
    v = np.ones(tuple(torch.zeros(2, 3, 4)[key].shape))
    c = cr.zeros(2, 3, 4)
    c[key] = cr.tensor(v, dtype=cr.float32)
    t = torch.zeros(2, 3, 4)
    t[key] = torch.tensor(v, dtype=torch.float32)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_index_put_accumulate_and_index_add_like_torch(torch: Any) -> None:
    def run(m: Any) -> list[np.ndarray]:
        y = m.zeros(3, dtype=m.float64)
        y.index_put_((m.tensor([0, 0, 2]),), m.tensor([1.0, 2.0, 3.0], dtype=m.float64), accumulate=True)
        z = m.zeros((2, 3), dtype=m.float64)
        z.index_add_(1, m.tensor([0, 0, 2]), m.ones((2, 3), dtype=m.float64), alpha=2)
        a = m.ones(3, dtype=m.float64, requires_grad=True)
        v = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        w = a * 1
        w.index_put_((m.tensor([1, 1]),), v * v, accumulate=True)
        (w * m.tensor([1.0, 2.0, 3.0], dtype=m.float64)).sum().backward()
        return [y.numpy(), z.numpy(), w.detach().numpy(), a.grad.numpy(), v.grad.numpy()]

    for o, t in zip(run(cr), run(torch)):
        np.testing.assert_array_equal(o, t)
