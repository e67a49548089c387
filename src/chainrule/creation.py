"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn``... Floats default to float32."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
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


def _like(x: Tensor, dtype: Any, device: Any) -> tuple[tuple[int, ...], Any, Any]:
    return x.shape, x.dtype if dtype is None else dtype, x.device if device is None else device


def zeros_like(
    x: Tensor,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Zeros of ``x``'s shape, dtype and device (or ``dtype``, ``device``)."""
    shape, dt, dev = _like(x, dtype, device)
    return zeros(shape, dtype=dt, requires_grad=requires_grad, device=dev)


def ones_like(
    x: Tensor,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Ones of ``x``'s shape, dtype and device (or ``dtype``, ``device``)."""
    shape, dt, dev = _like(x, dtype, device)
    return ones(shape, dtype=dt, requires_grad=requires_grad, device=dev)


def empty_like(
    x: Tensor,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """A tensor of ``x``'s shape, dtype and device, zero-filled (torch leaves it unset)."""
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(
    x: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """A tensor of ``x``'s shape (and dtype, device unless given) filled with ``fill_value``."""
    shape, dt, dev = _like(x, dtype, device)
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


def _endpoint(v: Any, op: str, what: str) -> Any:
    """A number, or the value of a 0-d tensor (``linspace.tensor_overload``)."""
    if isinstance(v, Tensor):
        if v.ndim != 0:
            raise RuntimeError(f"{op}: {what} must be a 0-dimensional tensor, got shape {tuple(v.shape)}")
        return v.item()
    return v


def _spaced(start: Any, end: Any, steps: int, dtype: np.dtype, op: str) -> np.ndarray:
    """torch's linspace values: the first half counted up from ``start``, the rest down from ``end``, in the
    output's float dtype (float64 for integer outputs)."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise RuntimeError(f"{op}: number of steps must be a non-negative int, got {steps!r}")
    start, end = _endpoint(start, op, "start"), _endpoint(end, op, "end")
    work = dtype if dtype.kind == "f" else np.dtype(np.float64)
    if dtype.kind != "f":  # torch casts the endpoints to an integer dtype first: 7.5 counts as 7
        start, end = math.trunc(start), math.trunc(end)
    lo, hi = work.type(start), work.type(end)
    if steps == 1:
        return np.full(1, lo, dtype=work)
    step = (hi - lo) / work.type(steps - 1)
    ind = np.arange(steps, dtype=work)
    return np.where(ind < steps // 2, lo + step * ind, hi - step * (work.type(steps - 1) - ind)).astype(work)


def _range_dtype(dtype: Any) -> np.dtype:
    dt = _float_dtype(dtype)
    if dt.kind == "c":
        raise NotImplementedError(f"complex dtype {dt} is not supported by chainrule's linspace/logspace")
    return dt


def linspace(
    start: Any,
    end: Any,
    steps: int,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``torch.linspace``); the
    endpoints may be numbers or 0-d tensors; float32 unless ``dtype`` is given."""
    dt = _range_dtype(dtype)
    with np.errstate(all="ignore"):
        data = _spaced(start, end, steps, dt, "linspace")
        if dt.kind in "iu":
            data = np.trunc(data)
        return _finish(data.astype(dt), requires_grad, device)


def logspace(
    start: Any,
    end: Any,
    steps: int,
    base: float = 10.0,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``base ** linspace(start, end, steps)`` (``torch.logspace``), float32 unless ``dtype`` is given."""
    dt = _range_dtype(dtype)
    with np.errstate(all="ignore"):
        exponents = _spaced(start, end, steps, dt, "logspace")
        if dt.kind in "iub":  # computed in float64, then truncated to the integer dtype
            data = np.power(np.float64(base), exponents)
        else:
            data = np.power(dt.type(base), exponents)
        return _finish(data.astype(dt), requires_grad, device)


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


def rand_like(
    x: Tensor,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Uniform [0, 1) samples of ``x``'s shape and dtype (or ``dtype``), from chainrule's generator."""
    shape, dt, dev = _like(x, dtype, device)
    return rand(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(
    x: Tensor,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Standard normal samples of ``x``'s shape and dtype (or ``dtype``), from chainrule's generator."""
    shape, dt, dev = _like(x, dtype, device)
    return randn(shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(
    x: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Random integers in ``[low, high)`` (or ``randint_like(x, high)``) of ``x``'s shape and dtype."""
    if high is None:
        low, high = 0, low
    shape, dt, dev = _like(x, dtype, device)
    return randint(low, high, shape, dtype=dt, device=dev)


def scalar_tensor(
    s: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A 0-d tensor holding the number ``s``, float32 unless ``dtype`` is given (``torch.scalar_tensor``)."""
    if isinstance(s, Tensor):
        s = s.item()
    with np.errstate(all="ignore"):  # nan or inf into an integer dtype, as torch casts
        data = np.asarray(s).astype(_float_dtype(dtype))
    return _finish(data, requires_grad, device)


def empty_strided(
    size: Any,
    stride: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A zero-filled tensor of ``size``; chainrule's tensors are contiguous, so ``stride`` only has to
    match ``size`` in length."""
    shape = _check_size(_shape_arg((size,)), "empty_strided")
    if len(tuple(stride)) != len(shape):
        raise RuntimeError(f"empty_strided: size {shape} and stride {tuple(stride)} differ in length")
    return zeros(shape, dtype=dtype, requires_grad=requires_grad, device=device)


def empty_permuted(
    size: Any,
    physical_layout: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A zero-filled tensor of ``size``; ``physical_layout`` (a permutation of the dims) is checked, and
    the memory stays contiguous."""
    shape = _check_size(_shape_arg((size,)), "empty_permuted")
    if sorted(physical_layout) != list(range(len(shape))):
        raise RuntimeError(
            f"empty_permuted: physical_layout {tuple(physical_layout)} is not a permutation of "
            f"{len(shape)} dims"
        )
    return zeros(shape, dtype=dtype, requires_grad=requires_grad, device=device)


def _tri_indices(rows: np.ndarray, cols: np.ndarray, dtype: Any, device: Any) -> Tensor:
    dt = np.dtype(np.int64 if dtype is None else dtype)
    return _finish(np.stack([rows, cols]).astype(dt).reshape(2, -1), False, device)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None, layout: Any = None
) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix, row by row,
    int64 unless ``dtype`` is given (``torch.tril_indices``)."""
    if row < 0 or col < 0:
        raise RuntimeError(f"tril_indices: row and col must be non-negative, got row={row}, col={col}")
    rows, cols = np.tril_indices(row, offset, col)
    return _tri_indices(rows, cols, dtype, device)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None, layout: Any = None
) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix, row by row,
    int64 unless ``dtype`` is given (``torch.triu_indices``)."""
    if row < 0 or col < 0:
        raise RuntimeError(f"triu_indices: row and col must be non-negative, got row={row}, col={col}")
    rows, cols = np.triu_indices(row, offset, col)
    return _tri_indices(rows, cols, dtype, device)


class _Fill(Function):
    """``fill(x, value)``: ``value`` everywhere in ``x``'s shape and dtype; the gradient of ``x`` is zero and
    that of a tensor ``value`` the sum of the output's gradient."""

    rule_takes_arrays = True
    uses_inputs = False

    def forward(self, x, *value):
        fill = value[0] if value else self.value
        with np.errstate(all="ignore"):
            return backend.to_device_of(np.full(x.shape, fill).astype(x.dtype), x)

    def backward(self, gy):
        zero = gy * 0
        if len(self.needs_input_grad) == 1:
            return zero
        return zero, gy.sum()


def fill(input: Tensor, value: Any) -> Tensor:  # noqa: A002
    """``torch.fill(input, value)``: a new tensor of ``input``'s shape and dtype holding ``value`` (a number
    or a 0-d tensor); the in-place form is ``Tensor.fill_``."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions"
            )
        return _Fill()(input, value)
    f = _Fill()
    f.value = value
    return f(input)


# ---------------------------------------------------------------------------- Tensor.new_* methods
def _new_kwargs(x: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def new_zeros(
    x: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """``x.new_zeros(size)``: zeros of ``size`` with ``x``'s dtype and device unless given."""
    dt, dev = _new_kwargs(x, dtype, device)
    return zeros(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def new_ones(
    x: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """``x.new_ones(size)``: ones of ``size`` with ``x``'s dtype and device unless given."""
    dt, dev = _new_kwargs(x, dtype, device)
    return ones(*size, dtype=dt, device=dev, requires_grad=requires_grad)


def new_empty(
    x: Tensor,
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """``x.new_empty(size)``: a zero-filled tensor of ``size`` with ``x``'s dtype and device unless given."""
    return new_zeros(x, *size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_full(
    x: Tensor,
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """``x.new_full(size, fill_value)``: ``fill_value`` everywhere, with ``x``'s dtype and device unless
    given."""
    dt, dev = _new_kwargs(x, dtype, device)
    return full(size, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def new_empty_strided(
    x: Tensor,
    size: Any,
    stride: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """``x.new_empty_strided(size, stride)``: as :func:`empty_strided` with ``x``'s dtype and device."""
    dt, dev = _new_kwargs(x, dtype, device)
    return empty_strided(size, stride, dtype=dt, device=dev, requires_grad=requires_grad)


#: Bound as Tensor methods by ``chainrule/__init__.py``.
NEW_METHODS = ("new_zeros", "new_ones", "new_empty", "new_full", "new_empty_strided")

for _name in NEW_METHODS:
    setattr(Tensor, _name, globals()[_name])
