"""The offline datasets: toy 2-D sets, sine windows and the UCI digits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule import datasets

TOY = [datasets.make_spiral, datasets.make_moons, datasets.make_circles, datasets.make_xor]


@pytest.mark.parametrize("make", TOY)
def test_toy_shapes_dtypes_and_determinism(make):
    x, y = make(101, noise=0.1, seed=5)
    assert x.shape == (101, 2) and y.shape == (101,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    x2, y2 = make(101, noise=0.1, seed=5)
    np.testing.assert_array_equal(x.data, x2.data)
    np.testing.assert_array_equal(y.data, y2.data)
    x3, _ = make(101, noise=0.1, seed=6)
    assert not np.array_equal(x.data, x3.data)
    counts = np.bincount(y.data)
    assert counts.max() - counts.min() <= (1 if make is not datasets.make_xor else 30)
    with pytest.raises(ValueError, match="noise must be non-negative, got -1"):
        make(10, noise=-1)
    with pytest.raises(ValueError, match="n_samples must be at least"):
        make(0)


def test_moons_match_scikit_learn_without_noise():
    sk = pytest.importorskip("sklearn.datasets")
    x, y = datasets.make_moons(50, noise=0.0, seed=0)
    sx, sy = sk.make_moons(50, noise=0.0, shuffle=False)
    for label in (0, 1):
        ours = np.sort(x.data[y.data == label].astype(np.float64), axis=0)
        theirs = np.sort(sx[sy == label], axis=0)
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_circles_radii_and_xor_rule():
    x, y = datasets.make_circles(80, factor=0.3, seed=1)
    r = np.linalg.norm(x.data, axis=1)
    np.testing.assert_allclose(r[y.data == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y.data == 1], 0.3, atol=1e-6)
    x, y = datasets.make_xor(200, seed=2)
    np.testing.assert_array_equal(y.data, (x.data[:, 0] > 0) ^ (x.data[:, 1] > 0))
    assert np.abs(x.data).max() <= 1


def test_spiral_classes_and_radius():
    x, y = datasets.make_spiral(301, n_classes=4, noise=0.3, seed=0)
    assert sorted(np.bincount(y.data).tolist()) == [75, 75, 75, 76]
    assert np.linalg.norm(x.data, axis=1).max() <= 1 + 1e-6  # noise bends the angle, not the radius


def test_sine_sequences_follow_the_curve():
    h = 2 * np.pi / 25.0
    x, y = datasets.sine_sequences(64, seq_len=12, seed=3)
    assert x.shape == (64, 12, 1) and y.shape == (64, 1) and x.dtype == y.dtype == np.float32
    xs = x.data[..., 0].astype(np.float64)
    # a sampled sinusoid obeys s[t+1] = 2 cos(h) s[t] - s[t-1]
    np.testing.assert_allclose(xs[:, 2:], 2 * np.cos(h) * xs[:, 1:-1] - xs[:, :-2], atol=1e-5)
    np.testing.assert_allclose(y.data[:, 0], 2 * np.cos(h) * xs[:, -1] - xs[:, -2], atol=1e-5)
    _, ys2 = datasets.sine_sequences(64, seq_len=12, seed=3, target="shifted")
    np.testing.assert_array_equal(ys2.data[:, :-1], x.data[:, 1:])
    np.testing.assert_array_equal(ys2.data[:, -1], y.data)
    noisy, clean_y = datasets.sine_sequences(64, seq_len=12, seed=3, noise=0.1)
    np.testing.assert_array_equal(clean_y.data, y.data)
    assert 0.05 < np.std(noisy.data - x.data) < 0.2


def test_sine_naive_baseline_formula():
    x, y = datasets.sine_sequences(4000, seq_len=5, seed=0, period=20.0)
    naive = np.mean((y.data[:, 0] - x.data[:, -1, 0]) ** 2)
    assert naive == pytest.approx(1 - np.cos(2 * np.pi / 20.0), rel=0.05)


def test_sine_errors():
    with pytest.raises(ValueError, match="seq_len must be a positive int, got 0"):
        datasets.sine_sequences(4, seq_len=0)
    with pytest.raises(ValueError, match="target must be"):
        datasets.sine_sequences(4, target="all")


def test_digits_are_scikit_learns_scaled_and_split_stratified():
    sk = pytest.importorskip("sklearn.datasets")
    raw_x, raw_y = sk.load_digits(return_X_y=True)
    x, y = datasets.load_digits(split=False)
    assert x.shape == (1797, 64) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.data, raw_x / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(y.data, raw_y)
    assert x.data.min() == 0.0 and x.data.max() == 1.0

    (xtr, _), (xte, yte) = datasets.load_digits(seed=0)
    assert len(xtr) + len(xte) == 1797 and abs(len(xte) - 0.2 * 1797) <= 10
    for c in range(10):
        n_c = int((raw_y == c).sum())
        assert abs(int((yte.data == c).sum()) - 0.2 * n_c) <= 0.5
    # train and test are disjoint and cover every image: match rows back to the originals
    rows = {r.tobytes(): i for i, r in enumerate((raw_x / 16.0).astype(np.float32))}
    assert len(rows) > 1700  # (a few duplicate images exist in the set)
    seen = [rows[r.tobytes()] for r in np.concatenate([xtr.data, xte.data])]
    assert len(set(seen)) == len(set(rows.values()))

    (xtr2, _), _ = datasets.load_digits(seed=0)
    np.testing.assert_array_equal(xtr.data, xtr2.data)
    (xtr3, _), _ = datasets.load_digits(seed=1)
    assert not np.array_equal(xtr.data, xtr3.data)
    (img, _), _ = datasets.load_digits(flatten=False)
    assert img.shape == (len(xtr), 1, 8, 8)


def test_digits_ship_with_the_package_and_equal_scikit_learns_exactly():
    sk = pytest.importorskip("sklearn.datasets")
    raw_x, raw_y = sk.load_digits(return_X_y=True)
    bundle = np.load(Path(datasets.__file__).with_name("digits.npz"), allow_pickle=False)
    assert bundle["images"].dtype == np.uint8 and bundle["images"].shape == (1797, 8, 8)
    np.testing.assert_array_equal(bundle["images"].reshape(1797, 64), raw_x)
    np.testing.assert_array_equal(bundle["labels"], raw_y)
    x, _ = datasets.load_digits(split=False)
    np.testing.assert_array_equal(x.data, (raw_x / 16.0).astype(np.float32))


def test_digits_load_without_scikit_learn(monkeypatch):
    # Before: load_digits read scikit-learn's copy and raised ImportError without it.
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    (xtr, ytr), (xte, _) = datasets.load_digits(seed=0)
    assert len(xtr) + len(xte) == 1797 and sorted(set(ytr.data.tolist())) == list(range(10))
    assert "sklearn" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}


def test_digits_file_is_small_and_its_licence_ships_beside_it():
    folder = Path(datasets.__file__).parent
    assert (folder / "digits.npz").stat().st_size < 60_000
    licence = (folder / "DIGITS_LICENSE.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in licence and "Alpaydin" in licence
