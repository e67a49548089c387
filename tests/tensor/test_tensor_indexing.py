"""Indexing reads and their gradients (ints, slices, None, Ellipsis, integer arrays, boolean masks), against
torch in float64. Repeated integer indices accumulate their gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

A = np.arange(24.0).reshape(2, 3, 4) / 7.0

KEYS = {
    "int": 1,
    "negative int": -1,
    "slice": slice(0, 2),
    "stepped slice": (slice(None), slice(None, None, 2)),
    "ints and slices": (1, slice(1, 3), -2),
    "None": (None, 0),
    "Ellipsis": (Ellipsis, 1),
    "Ellipsis middle": (0, ..., slice(1, 3)),
    "empty tuple": (),
    "int array": np.array([1, 0, 1]),
    "repeated int array": (slice(None), np.array([2, 2, 0, 2])),
    "2-d int array": np.array([[0, 1], [1, 1]]),
    "two int arrays": (np.array([0, 1, 1]), np.array([2, 2, 0])),
    "int array with slice": (np.array([1, 1]), slice(1, None), np.array([0, 3])),
    "list": [1, 1, 0],
    "bool mask full": A > 1.5,
    "bool mask leading": np.array([True, False]),
    "bool mask 2-d": (A.sum(-1) > 3),
    "all false mask": np.zeros((2, 3, 4), dtype=bool),
    "bool mask with slice": (slice(None), np.array([True, False, True])),
}


def _torch_key(key, torch):  # noqa: ANN001, ANN202
    def conv(k):  # noqa: ANN001, ANN202
        if isinstance(k, np.ndarray):
            return torch.as_tensor(k)
        if isinstance(k, list):
            return torch.tensor(k)
        return k

    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
def test_read_and_gradient_match_torch(key, torch) -> None:  # noqa: ANN001
    x = cr.tensor(A, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    y, ty = x[key], t[_torch_key(key, torch)]
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    v = np.random.default_rng(0).standard_normal(y.shape)
    (y * cr.tensor(v)).sum().backward()
    (ty * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_repeated_indices_accumulate() -> None:
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_bool_tensor_and_int_tensor_keys() -> None:
    x = cr.tensor(A, requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(x[mask].data, A[A > 1.5])
    idx = cr.tensor([1, 0])
    np.testing.assert_array_equal(x[idx].data, A[[1, 0]])
    x[mask].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (A > 1.5).astype(float))
    with pytest.raises(IndexError, match="integer or bool"):
        x[cr.tensor([0.0, 1.0])]


def test_indexing_second_order(torch) -> None:  # noqa: ANN001
    key = (np.array([0, 1, 1]), slice(None), np.array([3, 3, 0]))
    x = cr.tensor(A, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    (g,) = cr.grad((x[key] ** 3).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((t[_torch_key(key, torch)] ** 3).sum(), t, create_graph=True)
    (gg,) = cr.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12)


def test_out_of_range_index_raises_index_error_naming_the_shape() -> None:
    x = cr.tensor(A)
    with pytest.raises(IndexError, match=r"\(2, 3, 4\)"):
        x[5]
    with pytest.raises(IndexError):
        x[np.array([0, 7])]
    with pytest.raises(IndexError):
        x[np.ones(5, dtype=bool)]


def test_basic_indexing_is_a_view_sharing_memory_and_version() -> None:
    x = cr.tensor(A)
    v = x[0]
    assert np.shares_memory(v.data, x.data)
    x.add_(1.0)
    assert v._version == x._version == 1
    assert not np.shares_memory(x[[0, 1]].data, x.data)


def test_gather_index_select_masked_fill_take_along_dim(torch) -> None:  # noqa: ANN001
    x = cr.tensor(A, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    idx = np.array([[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 0], [1, 2]]])
    mask = A > 2.0
    pairs = [
        (x.gather(2, idx), t.gather(2, torch.as_tensor(idx))),
        (cr.take_along_dim(x, idx, 2), torch.take_along_dim(t, torch.as_tensor(idx), 2)),
        (x.index_select(1, np.array([2, 0, 2])), t.index_select(1, torch.tensor([2, 0, 2]))),
        (x.masked_fill(cr.tensor(mask), -1.0), t.masked_fill(torch.as_tensor(mask), -1.0)),
    ]
    total, ttotal = 0, 0
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
        total, ttotal = total + (ours * ours).sum(), ttotal + (theirs * theirs).sum()
    total.backward()
    ttotal.backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
