"""The toy datasets: shapes, types, labelling rules, determinism, validation."""

import pytest

from chainrule.scalar import datasets

RULES = {
    "simple": lambda a, b: a < 0.5,
    "diag": lambda a, b: a + b < 0.5,
    "split": lambda a, b: a < 0.2 or a > 0.8,
    "xor": lambda a, b: (a < 0.5 < b) or (b < 0.5 < a),
    "circle": lambda a, b: (a - 0.5) ** 2 + (b - 0.5) ** 2 > 0.1,
}


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_shape_types_and_determinism(name):
    make = datasets.DATASETS[name]
    data = make(101, seed=3)
    assert data.name == name and data.n == 101
    xs, ys = data
    assert len(xs) == len(ys) == 101
    assert all(isinstance(v, float) for point in xs for v in point) and all(len(p) == 2 for p in xs)
    assert set(ys) == {0.0, 1.0} and all(isinstance(y, float) for y in ys)
    assert make(101, seed=3) == data
    assert make(101, seed=4) != data
    assert make(1).n == 1 if name != "spiral" else make(2).n == 2


@pytest.mark.parametrize("name", list(RULES))
def test_labels_follow_the_rule(name):
    data = datasets.DATASETS[name](200, seed=1)
    assert all(0.0 <= v <= 1.0 for point in data.xs for v in point)
    assert data.ys == [1.0 if RULES[name](a, b) else 0.0 for a, b in data.xs]


def test_spiral_arms():
    data = datasets.spiral(51, seed=0)
    assert data.ys.count(0.0) == 26 and data.ys.count(1.0) == 25
    # The two arms are point reflections of each other through the centre (0.5, 0.5).
    arm0 = sorted(p for p, y in zip(data.xs, data.ys) if y == 0.0)
    arm1 = sorted((1.0 - a, 1.0 - b) for (a, b), y in zip(data.xs, data.ys) if y == 1.0)
    assert len(set(arm0)) == 26 and len(arm1) == 25
    noisy = datasets.spiral(50, seed=0, noise=0.05)
    assert noisy.xs != datasets.spiral(50, seed=0).xs


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_validation(name):
    make = datasets.DATASETS[name]
    with pytest.raises(ValueError, match="n must be"):
        make(0)
    with pytest.raises(ValueError, match="n must be"):
        make(-5)
    with pytest.raises(TypeError, match="float"):
        make(10.0)
