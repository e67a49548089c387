"""DataLoader, collation, TensorDataset, Subset and random_split."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


class Squares(Dataset):
    """A plain map-style dataset (takes the per-sample collate path)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


def indices_of(loader):
    return [xb.data[:, 0].astype(int).tolist() for xb, _ in loader]


@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 17),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    x = cr.tensor(np.stack([np.arange(n), np.arange(n) ** 2], axis=1).astype(np.float32).reshape(n, 2))
    fast = DataLoader(
        TensorDataset(x, cr.arange(n)), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed
    )
    slow = DataLoader(Squares(n), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    for loader in (fast, slow):
        batches = indices_of(loader)
        assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
        sizes = [len(b) for b in batches]
        assert all(s == batch_size for s in sizes[:-1])
        if batches:
            assert 0 < sizes[-1] <= batch_size and (not drop_last or sizes[-1] == batch_size)
        flat = [i for b in batches for i in b]
        assert len(set(flat)) == len(flat) == (n // batch_size * batch_size if drop_last else n)
        assert set(flat) <= set(range(n))
        if not shuffle:
            assert flat == list(range(len(flat)))
    # the fast TensorDataset path and per-sample collation give identical batches for the same seed
    assert indices_of(fast) == indices_of(slow)
    for (xb, yb), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(xb.data, sx.data)
        np.testing.assert_array_equal(yb.data, sy.data)
        assert xb.dtype == sx.dtype == np.float32 and yb.dtype == sy.dtype == np.int64


def test_shuffle_reproducible_and_new_order_each_epoch():
    ds = TensorDataset(cr.arange(50).reshape(50, 1).float(), cr.arange(50))

    def epochs(loader, k=3):
        return [[yb.tolist() for _, yb in loader] for _ in range(k)]

    a, b = epochs(DataLoader(ds, 8, shuffle=True, seed=3)), epochs(DataLoader(ds, 8, shuffle=True, seed=3))
    assert a == b
    assert a[0] != a[1]
    assert epochs(DataLoader(ds, 8, shuffle=True, generator=np.random.default_rng(3))) == a
    assert epochs(DataLoader(ds, 8, shuffle=True, seed=4)) != a
    cr.manual_seed(11)
    c = epochs(DataLoader(ds, 8, shuffle=True))
    cr.manual_seed(11)
    assert epochs(DataLoader(ds, 8, shuffle=True)) == c


def test_subset_of_tensor_dataset_fast_path_matches_slow_path():
    ds = TensorDataset(cr.arange(30).float(), cr.arange(30) * 10)
    inner = Subset(ds, list(range(29, -1, -1)))
    outer = Subset(inner, [0, 5, 7, 2, 11])
    batches = [[t.tolist() for t in batch] for batch in DataLoader(outer, batch_size=2)]
    slow = [
        [t.tolist() for t in batch] for batch in DataLoader(outer, batch_size=2, collate_fn=default_collate)
    ]
    assert batches == slow == [[[29.0, 24.0], [290, 240]], [[22.0, 27.0], [220, 270]], [[18.0], [180]]]


def test_default_collate_structures():
    Point = namedtuple("Point", "x y")
    batch = [
        {
            "img": np.zeros((2, 2), np.float32),
            "label": 1,
            "w": 0.5,
            "name": "a",
            "ok": True,
            "p": Point(1, 2.0),
        },
        {
            "img": np.ones((2, 2), np.float32),
            "label": 0,
            "w": 1.5,
            "name": "b",
            "ok": False,
            "p": Point(3, 4.0),
        },
    ]
    out = default_collate(batch)
    assert out["img"].shape == (2, 2, 2) and out["img"].dtype == np.float32
    assert out["label"].dtype == np.int64 and out["label"].tolist() == [1, 0]
    assert out["w"].dtype == np.float32 and out["w"].tolist() == [0.5, 1.5]
    assert out["ok"].dtype == np.bool_
    assert out["name"] == ["a", "b"]
    assert isinstance(out["p"], Point) and out["p"].x.tolist() == [1, 3]
    pairs = default_collate([(cr.tensor([1.0, 2.0]), np.int64(3)), (cr.tensor([3.0, 4.0]), np.int64(4))])
    assert isinstance(pairs, list) and pairs[0].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert pairs[1].dtype == np.int64


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_device_batch_size_none_and_sampler():
    ds = TensorDataset(np.arange(6, dtype=np.float32), np.arange(6))
    xb, _ = next(iter(DataLoader(ds, batch_size=4, device="cpu")))
    assert isinstance(xb, cr.Tensor) and xb.device == "cpu" and xb.tolist() == [0, 1, 2, 3]
    samples = list(DataLoader(Squares(3), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[1][0], cr.Tensor) and samples[1][1] == 1
    loader = DataLoader(ds, batch_size=2, sampler=[5, 3, 1])
    assert len(loader) == 2 and [yb.tolist() for _, yb in loader] == [[5, 3], [1]]


def test_loader_argument_errors():
    ds = Squares(4)
    with pytest.raises(ValueError, match="batch_size=0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(ds, shuffle=True, seed=1, generator=np.random.default_rng(1))


def test_tensor_dataset():
    x, y = cr.randn(5, 3), cr.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.data, x.data[2])
    assert yi.item() == 2
    with pytest.raises(ValueError, match=r"Size mismatch.*\[5, 4\]"):
        TensorDataset(x, cr.arange(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a list"):
        TensorDataset(x, [1, 2, 3, 4, 5])
    both = ConcatDataset([ds, TensorDataset(cr.randn(2, 3), cr.arange(2) + 100)])
    assert len(both) == 7 and both[6][1].item() == 101 and both[-1][1].item() == 101
    with pytest.raises(IndexError):
        both[7]


@given(n=st.integers(0, 40), cuts=st.lists(st.integers(0, 40), max_size=3), seed=st.integers(0, 1000))
def test_random_split_lengths_partition(n, cuts, seed):
    cuts = sorted(min(c, n) for c in cuts)
    lengths = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    parts = random_split(range(n), lengths, seed=seed)
    assert [len(p) for p in parts] == lengths
    items = [i for p in parts for i in p]
    assert sorted(items) == list(range(n))
    again = random_split(range(n), lengths, seed=seed)
    assert [list(p) for p in again] == [list(p) for p in parts]


@pytest.mark.parametrize(
    ("n", "fractions"), [(10, [0.8, 0.2]), (7, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (3, [0.1, 0.9])]
)
def test_random_split_fractions_match_torch_sizes(torch, n, fractions):
    ours = [len(p) for p in random_split(range(n), fractions, seed=0)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal.*\(10\)"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
