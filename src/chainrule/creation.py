"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn``... Floats default to float32."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.random import generator
from chainrule.tensor import Tensor, _shape_arg, as_array


def _finish(data: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    if device is not None:
        kind = backend.parse_device(device)
        if kind != "cpu":
            data = backend.to_device(data, kind)
    return Tensor(data, requires_grad=requires_grad)


def _float_dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def _check_size(size: tuple[int, ...], op: str) -> tuple[int, ...]:
    if any(s < 0 for s in size):
        raise ValueError(f"{op}: sizes must be non-negative, got {size}")
    return size


def tensor(
    data: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None, device: Any = None
) -> Tensor:
    """Make a Tensor from a number, a (nested) list or an array (which is copied).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    array = as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)):
        array = array.copy()
    t = _finish(array, requires_grad, device)
    t.name = name
    return t


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray (and returns a Tensor unchanged)."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    return Tensor(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy ``array`` (``torch.from_numpy``): writes show in both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros of ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``), float32 by default."""
    shape = _check_size(_shape_arg(size), "zeros")
    return _finish(np.zeros(shape, _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones of ``size`` (``ones(2, 3)`` or ``ones((2, 3))``), float32 by default."""
    shape = _check_size(_shape_arg(size), "ones")
    return _finish(np.ones(shape, _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ``size`` (``empty(2, 3)`` or ``empty((2, 3))``), zero-filled (torch leaves it unset)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def full(
    size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value unless given."""
    shape = _check_size(_shape_arg((size,)), "full")
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _finish(np.full(shape, fill_value, dtype=dtype), requires_grad, device)


def _like(x: Tensor, dtype: Any) -> tuple[tuple[int, ...], Any, Any]:
    return x.shape, x.dtype if dtype is None else dtype, x.device


def zeros_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    shape, dt, dev = _like(x, dtype)
    return zeros(shape, dtype=dt, requires_grad=requires_grad, device=dev)


def ones_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    shape, dt, dev = _like(x, dtype)
    return ones(shape, dtype=dt, requires_grad=requires_grad, device=dev)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``x``'s shape (and dtype, unless ``dtype`` is given) filled with ``fill_value``."""
    shape, dt, dev = _like(x, dtype)
    return full(shape, fill_value, dtype=dt, requires_grad=requires_grad, device=dev)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Integers (int64) when all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    if dtype is None:
        dtype = np.int64 if ints else np.float32
    return _finish(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``torch.linspace``)."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad, device)


def eye(
    n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``), float32 unless ``dtype`` is given."""
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: sizes must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform on [0, 1), from the generator ``manual_seed`` sets."""
    shape = _check_size(_shape_arg(size), "rand")
    return _finish(
        generator().random(shape, dtype=np.float64).astype(_float_dtype(dtype)), requires_grad, device
    )


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Standard normal, from the generator ``manual_seed`` sets."""
    shape = _check_size(_shape_arg(size), "randn")
    data = generator().standard_normal(shape, dtype=np.float64).astype(_float_dtype(dtype))
    return _finish(data, requires_grad, device)


def randint(
    low: int, high: int | None = None, size: Any = (), dtype: Any = None, device: Any = None
) -> Tensor:
    """Random integers in ``[low, high)`` of ``size`` (``randint(high, size)`` also works), int64."""
    if high is None or (isinstance(high, (tuple, list)) and size == ()):  # randint(high, size) as in torch
        low, high, size = 0, low, (size if high is None else high)
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = _check_size(_shape_arg((size,)), "randint")
    return _finish(generator().integers(low, high, shape).astype(dtype or np.int64), False, device)


def randperm(n: int, device: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` as int64, from chainrule's generator."""
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    return _finish(generator().permutation(n).astype(np.int64), False, device)


def rand_like(x: Tensor, dtype: Any = None) -> Tensor:
    """Uniform [0, 1) samples of ``x``'s shape and dtype (or ``dtype``), from chainrule's generator."""
    return rand(x.shape, dtype=dtype or x.dtype, device=x.device)


def randn_like(x: Tensor, dtype: Any = None) -> Tensor:
    """Standard normal samples of ``x``'s shape and dtype (or ``dtype``), from chainrule's generator."""
    return randn(x.shape, dtype=dtype or x.dtype, device=x.device)
