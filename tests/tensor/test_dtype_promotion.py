"""Result dtypes, values and errors of mixed-dtype ops, against torch over a grid of dtype pairs.

torch promotes by category (bool < integer < float): int64 with float32 is float32 (NumPy: float64), a 0-d
tensor does not widen a dimensioned one of the same category, and integer powers stay integer.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import chainrule as cr

CORE = ["bool", "int32", "int64", "float32", "float64"]
EXTRA = ["uint8", "int8", "float16"]
DTYPES = CORE + EXTRA

# Each op: (chainrule, torch) on two tensors; cat/stack only pair tensors of the same standing.
BINARY: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (lambda a, b: cr.maximum(a, b), lambda a, b: _torch().maximum(a, b)),
    "minimum": (lambda a, b: cr.minimum(a, b), lambda a, b: _torch().minimum(a, b)),
    "where": (
        lambda a, b: cr.where(np.array([True, False, True]), a, b),
        lambda a, b: _torch().where(_torch().tensor([True, False, True]), a, b),
    ),
    "cat": (lambda a, b: cr.cat([a, b]), lambda a, b: _torch().cat([a, b])),
    "stack": (lambda a, b: cr.stack([a, b]), lambda a, b: _torch().stack([a, b])),
}
# (shape of a, shape of b): both with dims, a 0-d on either side, both 0-d.
STANDINGS = [((3,), (3,)), ((), (3,)), ((3,), ()), ((), ())]


def _torch() -> Any:
    import torch  # noqa: PLC0415

    return torch


def _data(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Small values with a zero (division by zero, 0 ** negative) and, where the dtype allows, a negative."""
    values = {
        "bool": [True, False, True],
        "uint8": [3, 0, 2],
    }.get(dtype, [3, 0, -2] if dtype[0] in "iu" else [1.5, 0.0, -2.5])
    values = values[seed:] + values[:seed]
    return np.array(values[0] if shape == () else values, dtype=dtype)


def _run(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """('ok', (dtype name, values)) or ('error', exception type name); NumPy warnings fail the call."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return "error", type(exc).__name__
    data = out.detach().numpy() if hasattr(out, "detach") else out.numpy()
    return "ok", (str(out.dtype).replace("torch.", ""), data)


def _compare(ours: tuple[str, Any], theirs: tuple[str, Any], what: str) -> str | None:
    if ours[0] != theirs[0] or (ours[0] == "error" and ours[1] != theirs[1]):
        return f"{what}: chainrule {ours}, torch {theirs}"
    if ours[0] == "error":
        return None
    (dtype, values), (tdtype, tvalues) = ours[1], theirs[1]
    if dtype != tdtype:
        return f"{what}: dtype {dtype}, torch {tdtype}"
    rtol = 2e-3 if dtype == "float16" else 1e-6
    if not np.allclose(values.astype(np.float64), tvalues.astype(np.float64), rtol=rtol, equal_nan=True):
        return f"{what}: values {values}, torch {tvalues}"
    return None


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("da", DTYPES)
def test_tensor_pairs_match_torch(torch: Any, op: str, da: str) -> None:  # noqa: ARG001 - loads torch
    """Every dtype pair and every standing (0-d or not): the same dtype, values (nan where torch has nan) or
    error type as torch, and no NumPy warning."""
    ours_fn, theirs_fn = BINARY[op]
    problems = []
    for db, (sa, sb) in itertools.product(DTYPES, STANDINGS):
        if op in ("cat", "stack") and (sa == () or sb == ()):
            if op == "cat" or sa != sb:
                continue
        a, b = _data(da, sa, 0), _data(db, sb, 1)
        ours = _run(ours_fn, cr.tensor(a.copy()), cr.tensor(b.copy()))
        theirs = _run(theirs_fn, _torch().from_numpy(a.copy()), _torch().from_numpy(b.copy()))
        problems.append(_compare(ours, theirs, f"{op}({da}{list(sa)}, {db}{list(sb)})"))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


SCALAR_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "t + c": lambda t, c: t + c,
    "c + t": lambda t, c: c + t,
    "t - c": lambda t, c: t - c,
    "c - t": lambda t, c: c - t,
    "t * c": lambda t, c: t * c,
    "t / c": lambda t, c: t / c,
    "c / t": lambda t, c: c / t,
    "t ** c": lambda t, c: t**c,
    "c ** t": lambda t, c: c**t,
}
SCALARS = [True, False, 0, 2, -1, 2.5, -0.5]


@pytest.mark.parametrize("op", list(SCALAR_OPS))
def test_tensor_with_python_numbers_matches_torch(torch: Any, op: str) -> None:
    """int/bool tensors with int/float/bool Python numbers: torch's dtype (``2 ** int_tensor`` stays int64,
    ``int_tensor ** 2.5`` is float32, bool with an int is int64), values, and errors (negative integer
    powers, bool subtraction, bool ** bool)."""
    fn = SCALAR_OPS[op]
    problems = []
    for dtype, standing, c in itertools.product(DTYPES, [(3,), ()], SCALARS):
        a = _data(dtype, standing, 0)
        ours = _run(fn, cr.tensor(a.copy()), c)
        theirs = _run(fn, torch.from_numpy(a.copy()), c)
        problems.append(_compare(ours, theirs, f"{op} with t {dtype}{list(standing)}, c={c!r}"))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_integer_powers_keep_integer_dtype_like_torch(torch: Any) -> None:
    i = np.array([-2, -1, 0, 1, 2, 3])
    cases = [
        (lambda m, t: 2**t, i),
        (lambda m, t: t**2, i),
        (lambda m, t: t**0, i),
        (lambda m, t: (-1) ** t, i),  # negative exponents: torch's 1, ±1 or 0, not an error
        (lambda m, t: t ** m.tensor([-1, -1, -2, -1, 1, 2]), i),
        (lambda m, t: t ** t.flip(0), i),
        (lambda m, t: t.to(m.int32) ** m.tensor(2), i),  # a 0-d int64 exponent does not widen int32
    ]
    for k, (f, data) in enumerate(cases):
        ours, theirs = f(cr, cr.tensor(data)), f(torch, torch.tensor(data))
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), k
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=str(k))


def test_negative_integer_power_of_an_integer_tensor_is_refused(torch: Any) -> None:
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        torch.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        cr.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        cr.tensor([True]) ** -2
    assert cr.tensor([1, 2]) ** -1.0 is not None  # a float exponent is fine: float32
    assert (cr.tensor([1, 2]) ** -1.0).dtype == np.float32


def test_bool_subtraction_and_negation_are_refused_like_torch(torch: Any) -> None:
    b = np.array([True, False])
    for f in (lambda t: t - t, lambda t: -t, lambda t: t - 1, lambda t: 1 - t, lambda t: t.float() - t):
        with pytest.raises(RuntimeError) as theirs:
            f(torch.tensor(b))
        with pytest.raises(RuntimeError, match="bool") as ours:
            f(cr.tensor(b))
        assert "logical" in str(ours.value) and "logical" in str(theirs.value)


def test_cat_and_stack_promote_and_route_gradients_back_in_each_inputs_dtype(torch: Any) -> None:
    a = cr.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = cr.tensor(np.array([3.0], np.float64), requires_grad=True)
    i = cr.tensor(np.array([4, 5]))
    y = cr.cat([a, b, i])
    ty = torch.cat([torch.tensor([1.0, 2.0]), torch.tensor([3.0], dtype=torch.float64), torch.tensor([4, 5])])
    assert y.dtype == np.float64 and ty.dtype == torch.float64
    np.testing.assert_array_equal(y.detach().numpy(), ty.numpy())
    w = cr.tensor(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    ga, gb = cr.grad((y * w).sum(), [a, b])
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    np.testing.assert_array_equal(ga.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(gb.numpy(), [3.0])
    s = cr.stack([i, a])  # int64 with float32: float32 (NumPy would give float64)
    assert (
        s.dtype == np.float32 == torch.stack([torch.tensor([4, 5]), torch.tensor([1.0, 2.0])]).numpy().dtype
    )


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((2, 3), (3, 4)),
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((5, 2, 3), (5, 3, 4)),
        ((5, 2, 3), (3, 4)),
    ],
)
def test_matmul_of_different_dtypes_is_a_runtime_error_naming_both(torch: Any, sa: Any, sb: Any) -> None:
    for da, db in [("float32", "float64"), ("int64", "float32"), ("float16", "float32")]:
        a, b = np.ones(sa, da), np.ones(sb, db)
        with pytest.raises(RuntimeError):
            torch.from_numpy(a) @ torch.from_numpy(b)
        products = [lambda x, y: x @ y, cr.matmul] + ([cr.mm] if len(sa) == len(sb) == 2 else [])  # mm: 2-D
        for f in products:
            with pytest.raises(RuntimeError, match="same dtype") as info:
                f(cr.tensor(a), cr.tensor(b))
            message = str(info.value)
            assert da in message and db in message and str(sa) in message and str(sb) in message, message


def test_matmul_of_integers_stays_integer_like_torch(torch: Any) -> None:
    for dtype in ("int32", "int64"):
        a, b = np.arange(6, dtype=dtype).reshape(2, 3), np.arange(12, dtype=dtype).reshape(3, 4)
        ours, theirs = cr.tensor(a) @ cr.tensor(b), torch.from_numpy(a) @ torch.from_numpy(b)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_einsum_of_different_dtypes_is_a_runtime_error(torch: Any) -> None:
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4))
    with pytest.raises(RuntimeError):
        torch.einsum("ij,jk->ik", torch.from_numpy(a), torch.from_numpy(b))
    with pytest.raises(RuntimeError, match=r"float32.*float64"):
        cr.einsum("ij,jk->ik", cr.tensor(a), cr.tensor(b))


def test_same_dtype_fast_paths_leave_dtypes_alone() -> None:
    for dtype in ("float16", "float32", "float64"):
        x = cr.tensor(np.ones(3, dtype))
        for y in (x + x, x - x, x * x, x / x, x**x, x**2, 2**x, cr.cat([x, x]), cr.stack([x, x])):
            assert y.dtype == np.dtype(dtype)
