"""Shape ops: reshape, permute, broadcast, concatenate, split, flip, pad, repeat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.tensor import Tensor, _shape_arg


class ShapeError(RuntimeError, ValueError):
    """A shape that does not fit: a RuntimeError, as torch raises, and a ValueError, as chainrule did."""


def _axis(dim: int, ndim: int, op: str) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % ndim


def _sum_to_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    """Axes to sum so that ``shape`` becomes ``target``; ValueError if ``target`` does not broadcast to it."""
    lead = len(shape) - len(target)
    if lead < 0 or any(s != 1 and s != shape[i + lead] for i, s in enumerate(target)):
        raise ValueError(f"sum_to: shape {shape} cannot be summed to {target}")
    return tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(target) if s == 1 and shape[i + lead] != 1
    )


def sum_to_array(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``x`` down to ``shape``: the inverse of broadcasting."""
    if x.shape == shape:
        return x
    axes = _sum_to_axes(x.shape, shape)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape)


def broadcast_view(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to`` (a read-only view) for a shape known to fit, built directly (no checks to run).

    >>> broadcast_view(np.arange(3.0), (2, 3)).strides
    (0, 8)
    """
    if x.__class__ is not np.ndarray:
        return np.broadcast_to(x, shape)  # CuPy: the library function
    if not x.ndim:  # the common case (the gradient of a full reduction): every stride is 0
        view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
    else:
        if not x.flags.c_contiguous or not x.size:
            return np.broadcast_to(x, shape)  # strided or empty arrays: the library function
        strides = [0] * (len(shape) - x.ndim)
        for n, stride in zip(x.shape, x.strides):
            strides.append(0 if n == 1 else stride)
        view = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    view.flags.writeable = False
    return view


def expand_grad(g: Any, shape: tuple[int, ...]) -> Any:
    """Broadcast a gradient up to ``shape``: a read-only view of an array (first-order pass), or the
    recorded ``BroadcastTo`` of a Tensor (``create_graph``)."""
    if g.shape == shape:
        return g
    return BroadcastTo(shape)(g) if isinstance(g, Tensor) else broadcast_view(g, shape)


class Reshape(Function):
    uses_inputs = False
    is_view = True
    rule_takes_arrays = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class Permute(Function):
    uses_inputs = False
    is_view = True

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        return permute(gy, tuple(np.argsort(self.axes)))


class BroadcastTo(Function):
    uses_inputs = False
    rule_takes_arrays = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return broadcast_view(x, self.shape)

    def backward(self, gy):
        return gy  # the engine sums every gradient down to its input's shape


class SumTo(Function):
    uses_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return sum_to_array(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


class Concat(Function):
    """``np.concatenate``; inputs listed in ``skip`` (torch's legacy 1-D empty tensors) are left out and get
    empty gradients."""

    uses_inputs = False

    def __init__(self, axis, skip=()):
        self.axis, self.skip = axis, frozenset(skip)

    def forward(self, *xs):
        kept = [x for i, x in enumerate(xs) if i not in self.skip]
        self.sizes = [x.shape[self.axis] for x in kept]
        return np.concatenate(kept, axis=self.axis)

    def backward(self, gy):
        parts = list(split(gy, self.sizes, self.axis)) if len(self.sizes) > 1 else [gy]
        if not self.skip:
            return tuple(parts)
        empty = reshape(gy, (-1,))[0:0] if gy.data.size else reshape(gy, (0,))
        n = len(self.sizes) + len(self.skip)
        return tuple(empty if i in self.skip else parts.pop(0) for i in range(n))


class Stack(Function):
    uses_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def backward(self, gy):
        n = gy.shape[self.axis]
        parts = split(gy, [1] * n, self.axis)
        return tuple(reshape(p, p.shape[: self.axis] + p.shape[self.axis + 1 :]) for p in parts)


class Split(Function):
    uses_inputs = False

    def __init__(self, sizes, axis):
        self.sizes, self.axis = sizes, axis

    def forward(self, x):
        bounds = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(x, bounds.tolist(), axis=self.axis))

    def backward(self, *gys):
        return concat(list(gys), self.axis)


class Flip(Function):
    uses_inputs = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return np.flip(x, self.axes)

    def backward(self, gy):
        return flip(gy, self.axes)


class Pad(Function):
    uses_inputs = False

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return np.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        index = tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
        return gy[index]


class Repeat(Function):
    """torch's ``repeat`` (NumPy's ``tile``)."""

    uses_inputs = False

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        self.in_shape = (1,) * (len(self.reps) - x.ndim) + x.shape
        return np.tile(x.reshape(self.in_shape), self.reps)

    def backward(self, gy):
        interleaved = []
        for r, s in zip(self.reps, self.in_shape):
            interleaved += [r, s]
        g = reshape(gy, tuple(interleaved)).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return g


# ---------------------------------------------------------------------------- function forms
def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Reshape (one dim may be -1). ``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` both work."""
    target = _shape_arg(shape)
    if target == x.shape:
        return x
    known = int(np.prod([s for s in target if s != -1], dtype=np.int64))
    if target.count(-1) > 1 or (
        (-1 not in target and known != x.data.size) or (-1 in target and (known == 0 or x.data.size % known))
    ):
        raise ShapeError(
            f"shape '{list(target)}' is invalid for input of size {x.data.size} "
            f"(reshape of a tensor of shape {x.shape} to {target})"
        )
    return Reshape(target)(x)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``x`` with dims ``start_dim`` to ``end_dim`` merged into one (a 0-d tensor becomes shape ``(1,)``)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[s : e + 1], dtype=np.int64))  # not -1: that is ambiguous for empty tensors
    return reshape(x, (*x.shape[:s], merged, *x.shape[e + 1 :])) if s != e else x


def permute(x: Tensor, *dims: Any) -> Tensor:
    """``x`` with its dims reordered: ``permute(x, 2, 0, 1)`` or ``permute(x, (2, 0, 1))``."""
    axes = _shape_arg(dims)
    for a in axes:
        if not -max(x.ndim, 1) <= a < max(x.ndim, 1):
            raise IndexError(f"permute: dim {a} is out of range for a tensor with {x.ndim} dimensions")
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: dims {axes} are not a permutation of the {x.ndim} dimensions of {x.shape}"
        )
    axes = tuple(a % x.ndim for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Permute(axes)(x)


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dims (``torch.transpose``)."""
    if x.ndim < 2 and dim0 in (0, -1, -2) and dim1 in (0, -1, -2):
        return x
    a, b = _axis(dim0, x.ndim, "transpose"), _axis(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, tuple(axes))


swapaxes = transpose


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """``x`` without its size-1 dims (all, or only those in ``dim``)."""
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = {_axis(d, max(x.ndim, 1), "squeeze") for d in dims}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """``x`` with a new size-1 dim inserted at ``dim``."""
    d = _axis(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, (*x.shape[:d], 1, *x.shape[d:]))


def broadcast_to(x: Tensor, *shape: Any) -> Tensor:
    """``x`` broadcast to ``shape`` (a read-only view); the gradient sums over the broadcast dims."""
    target = _shape_arg(shape)
    if target == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, target)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}") from None
    if len(target) < x.ndim or np.broadcast_shapes(x.shape, target) != target:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {target}")
    return BroadcastTo(target)(x)


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """torch's ``expand``: -1 keeps a dim's size."""
    target = _shape_arg(sizes)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(target)} sizes given for a tensor with {x.ndim} dimensions")
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(target))
    return broadcast_to(x, full)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` broadcast to ``other``'s shape."""
    return broadcast_to(x, other.shape)


def sum_to(x: Tensor, *shape: Any) -> Tensor:
    """``x`` summed down to ``shape``, the inverse of broadcasting (the backward of :func:`broadcast_to`)."""
    target = _shape_arg(shape)
    if target == x.shape:
        return x
    _sum_to_axes(x.shape, target)
    return SumTo(target)(x)


def _tensors(xs: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(xs, Tensor) or not len(xs):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return [x if isinstance(x, Tensor) else Tensor(x) for x in xs]


def _same_dtype(ts: list[Tensor]) -> list[Tensor]:
    """The tensors cast to PyTorch's common dtype when they differ (int64 with float32 gives float32, bool
    with int32 gives int32); unchanged, and nothing computed, when all dtypes are the same."""
    first = ts[0].data.dtype
    for t in ts:
        d = t.data.dtype
        if d is not first and d != first:
            from chainrule.ops._dtypes import common_dtype  # noqa: PLC0415

            target = common_dtype([t.data.dtype for t in ts])
            return [t if t.data.dtype == target else t.to(target) for t in ts]
    return ts


def concat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors joined along the existing dim ``dim`` (``torch.cat``; also ``concat``, ``concatenate``)."""
    ts = _tensors(tensors, "cat")
    # torch skips 1-D empty tensors whatever the other shapes (a legacy rule), unless all are such
    skip = [i for i, t in enumerate(ts) if t.shape == (0,)]
    if len(skip) == len(ts):
        skip = []
    first = next(t for i, t in enumerate(ts) if i not in skip)
    ax = _axis(dim, first.ndim, "cat")
    for i, t in enumerate(ts):
        if i not in skip and (
            t.ndim != first.ndim
            or any(a != b for j, (a, b) in enumerate(zip(t.shape, first.shape)) if j != ax)
        ):
            raise ShapeError(f"cat: shapes {first.shape} and {t.shape} differ outside dim {dim}")
    return Concat(ax, skip)(*_same_dtype(ts))


cat = concat
concatenate = concat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new dimension ``dim``."""
    ts = _tensors(tensors, "stack")
    for t in ts[1:]:
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: all tensors need the same shape, got {ts[0].shape} and {t.shape}")
    return Stack(_axis(dim, ts[0].ndim + 1, "stack"))(*_same_dtype(ts))


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """torch's ``split``: an int is the size of each chunk (the last may be smaller); a list gives sizes."""
    ax = _axis(dim, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} do not add up to dim {dim} of size {n}")
    if len(sizes) == 1:
        return (x,)
    return Split(sizes, ax)(x)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` split into ``chunks`` pieces of equal size along ``dim``, as torch (the last may be smaller)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_axis(dim, x.ndim, "chunk")]
    if n == 0:  # torch gives `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, max(-(-n // chunks), 1), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``dim``, as a tuple of tensors with that dim removed."""
    if x.shape[_axis(dim, x.ndim, "unbind")] == 0:
        return ()
    parts = split(x, 1, dim)
    return tuple(squeeze(p, dim) for p in parts)


def flip(x: Tensor, dims: Any) -> Tensor:
    """``x`` with the order of elements reversed along each of ``dims``."""
    axes = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(_axis(a, max(x.ndim, 1), "flip") for a in axes)
    return Flip(axes if x.ndim else ())(x)  # a 0-d tensor accepts dim 0 / -1, as in torch


def crop_negative(x: Tensor, pads: Sequence[int]) -> Tensor:
    """``x`` cropped where ``pads`` (F.pad's order: last dim first) is negative; ShapeError past its size."""
    key = [slice(None)] * x.ndim
    for i in range(len(pads) // 2):
        lo, hi = -min(int(pads[2 * i]), 0), -min(int(pads[2 * i + 1]), 0)
        d = x.ndim - 1 - i
        if lo or hi:
            if x.shape[d] - lo - hi < 0:
                raise ShapeError(
                    f"pad: the padding {tuple(pads)} crops dim {d} of size {x.shape[d]} below zero"
                )
            key[d] = slice(lo, x.shape[d] - hi)
    if all(k == slice(None) for k in key):
        return x
    return x[tuple(key)]


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """torch's ``F.pad``: ``pad`` lists (before, after) pairs starting from the LAST dim; negative values
    crop."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of values for at most {x.ndim} dims, got {tuple(pad)}"
        )
    x = crop_negative(x, pad)
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (max(int(pad[2 * i]), 0), max(int(pad[2 * i + 1]), 0))
    if not any(lo or hi for lo, hi in widths):
        return x
    return Pad(tuple(widths), value)(x)


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """``x`` tiled ``sizes`` times along each dim (``torch.Tensor.repeat``; extra leading sizes add dims)."""
    reps = _shape_arg(sizes)
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: needs at least {x.ndim} repeat counts for shape {x.shape}, got {reps}")
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: counts must be non-negative, got {reps}")
    return Repeat(reps)(x)
