"""Making tensors: ``tensor()`` dtype rules, bad data, ``Variable``, the creation functions, ``manual_seed``.

dtypes are compared with what torch gives for the same data.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor, Variable

DATA = [
    1.5,
    2,
    True,
    -0.0,
    [1.0, 2.0],
    [[1, 2], [3, 4]],
    [True, False],
    [1, 2.5],
    (1.0, 2.0),
    [],
    [[]],
    np.float64(1.5),
    np.float32(1.5),
    np.int32(3),
    np.array([1.0, 2.0]),
    np.array([1.0], dtype=np.float32),
    np.array([1.0], dtype=np.float16),
    np.array([1, 2], dtype=np.int32),
    np.array([1, 2]),
    np.array(3.0),
    np.array([True]),
    np.zeros((2, 0)),
]


def _torch_dtype(t) -> str:  # noqa: ANN001
    return str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_dtype_and_values_match_torch(data, torch) -> None:  # noqa: ANN001
    """Python floats -> float32, ints -> int64, bools -> bool; arrays and NumPy scalars keep their dtype."""
    t = cr.tensor(data)
    expected = torch.tensor(data)
    assert str(t.dtype) == _torch_dtype(expected)
    assert t.shape == tuple(expected.shape)
    np.testing.assert_array_equal(t.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", ["float64", np.float64, cr.float64, "float16", cr.int32, cr.long, cr.bool_])
def test_tensor_dtype_argument(dtype) -> None:  # noqa: ANN001
    t = cr.tensor([1.0, 0.0, 2.0], dtype=dtype)
    assert t.dtype == np.dtype(dtype)


@pytest.mark.parametrize("bad", ["abc", b"bytes", object(), {"a": 1}, None, {1, 2}, print, slice(1)])
def test_tensor_rejects_non_numeric_data_with_a_type_error_naming_the_type(bad) -> None:  # noqa: ANN001
    with pytest.raises(TypeError, match=type(bad).__name__):
        cr.tensor(bad)
    with pytest.raises(TypeError, match=type(bad).__name__):
        Tensor(bad)


@pytest.mark.parametrize("bad", [["a", "b"], [None, 1.0], np.array(["x"]), np.array([object()])])
def test_tensor_rejects_arrays_of_strings_and_objects(bad) -> None:  # noqa: ANN001
    with pytest.raises(TypeError):
        cr.tensor(bad)


def test_ragged_lists_raise_value_error() -> None:
    with pytest.raises(ValueError, match="ragged"):
        cr.tensor([[1.0, 2.0], [3.0]])


def test_requires_grad_and_name() -> None:
    t = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    assert t.requires_grad and t.is_leaf and t.grad is None and t.name == "w"
    assert "requires_grad=True" in repr(t) and "name='w'" in repr(t)
    assert not cr.tensor([1.0]).requires_grad


def test_integer_tensors_cannot_require_grad(torch) -> None:  # noqa: ANN001
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)


def test_tensor_copies_arrays_while_as_tensor_and_from_numpy_share_memory() -> None:
    a = np.array([1.0, 2.0])
    copied, shared, from_np = cr.tensor(a), cr.as_tensor(a), cr.from_numpy(a)
    a[0] = 9.0
    assert copied.data[0] == 1.0
    assert shared.data[0] == 9.0 and from_np.data[0] == 9.0


def test_variable_requires_grad_by_default_when_floating() -> None:
    v = Variable(np.array(0.5))
    assert isinstance(v, Tensor) and v.requires_grad and v.dtype == np.float64
    assert not Variable(np.array(1)).requires_grad  # integers cannot require grad
    assert not Variable(np.array(0.5), requires_grad=False).requires_grad
    assert Variable(np.array([1.0]), name="x").name == "x"
    assert Variable(1.0).dtype == np.float32  # Python floats become float32 here too
    assert Variable(np.array(2.0)).data.dtype == np.float64


def test_variable_backward_fills_its_grad() -> None:
    x = Variable(np.array(3.0))
    y = x * x
    y.backward()
    assert isinstance(x.grad, Tensor) and float(x.grad) == 6.0


# ---------------------------------------------------------------------------- creation functions
CREATORS = [
    ("zeros", lambda m: m.zeros(2, 3)),
    ("zeros tuple", lambda m: m.zeros((2, 3))),
    ("ones", lambda m: m.ones(4)),
    ("ones f64", lambda m: m.ones(2, dtype=m.float64)),
    ("full float", lambda m: m.full((2, 2), 1.5)),
    ("full int", lambda m: m.full((2,), 7)),
    ("full bool", lambda m: m.full((2,), True)),
    ("arange int", lambda m: m.arange(5)),
    ("arange float", lambda m: m.arange(0, 1, 0.25)),
    ("arange start/end", lambda m: m.arange(2, 7, 2)),
    ("arange neg", lambda m: m.arange(5, 0, -1)),
    ("linspace", lambda m: m.linspace(0, 1, 5)),
    ("linspace empty", lambda m: m.linspace(0, 1, 0)),
    ("eye", lambda m: m.eye(3)),
    ("eye rect", lambda m: m.eye(2, 4)),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64))),
    ("ones_like", lambda m: m.ones_like(m.zeros(3, dtype=m.int64))),
    ("empty dims", lambda m: m.zeros(0, 3)),
    ("0-d", lambda m: m.ones(())),
]


@pytest.mark.parametrize("make", [c[1] for c in CREATORS], ids=[c[0] for c in CREATORS])
def test_creation_functions_match_torch(make, torch) -> None:  # noqa: ANN001
    t, expected = make(cr), make(torch)
    assert t.shape == tuple(expected.shape)
    assert str(t.dtype) == _torch_dtype(expected)
    np.testing.assert_allclose(t.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_random_tensors_have_shape_dtype_and_requires_grad(name: str) -> None:
    t = getattr(cr, name)(3, 4, requires_grad=True)
    assert t.shape == (3, 4) and t.dtype == np.float32 and t.requires_grad
    assert getattr(cr, name)((2,), dtype=cr.float64).dtype == np.float64


def test_rand_range_and_randn_moments() -> None:
    u = cr.rand(10_000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    n = cr.randn(20_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_randint_range_and_dtype() -> None:
    r = cr.randint(3, 7, (1000,))
    assert r.dtype == np.int64 and r.shape == (1000,)
    assert set(np.unique(r.numpy())) == {3, 4, 5, 6}
    assert cr.randint(5, size=(2, 2)).numpy().max() < 5


def test_manual_seed_makes_draws_reproducible() -> None:
    cr.manual_seed(123)
    a = (cr.rand(5), cr.randn(2, 2), cr.randint(0, 100, (4,)))
    cr.manual_seed(123)
    b = (cr.rand(5), cr.randn(2, 2), cr.randint(0, 100, (4,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    cr.manual_seed(124)
    assert not np.array_equal(cr.rand(5).numpy(), a[0].numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda: cr.zeros(-1),
        lambda: cr.ones(2, -3),
        lambda: cr.eye(-1),
        lambda: cr.arange(0, 5, 0),
        lambda: cr.randint(5, 5, (2,)),
    ],
)
def test_creation_rejects_bad_sizes(call) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        call()


def test_manual_seed_rejects_negative_or_non_int() -> None:
    with pytest.raises(ValueError):
        cr.manual_seed(-1)
    with pytest.raises(ValueError):
        cr.manual_seed(1.5)  # type: ignore[arg-type]
