"""Pooling over strided window views: max (gradient to the first maximum, as torch), average, adaptive.

The stride defaults to the kernel size (non-overlapping windows), as in torch. Each op is a pair of linear
Functions that are each other's adjoint (gather/scatter, window-sum/spread), so every derivative order works.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.nn.functional._conv import ShapeError, pad_spatial, windows
from chainrule.nn.functional._utils import as_tensor, ntuple
from chainrule.ops import cat, matmul
from chainrule.tensor import Tensor, _new


class _Pool:
    """Geometry of a pooling op: kernel, stride, dilation, per-dim (low, high) padding and output size."""

    def __init__(
        self,
        op: str,
        spatial: tuple[int, ...],
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        ceil_mode: bool,
    ) -> None:
        nd = len(spatial)
        self.kernel = ntuple(kernel_size, nd, "kernel_size", op, minimum=1)
        # torch reads an empty stride (``stride=()``) as the kernel size too.
        empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
        self.stride = self.kernel if empty else ntuple(stride, nd, "stride", op, minimum=1)
        pad = ntuple(padding, nd, "padding", op, minimum=0)
        self.dilation = ntuple(dilation, nd, "dilation", op, minimum=1)
        for p, k in zip(pad, self.kernel):
            if p > k // 2:
                raise ValueError(
                    f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                    f"kernel_size={k}"
                )
        self.out: list[int] = []
        pairs = []
        for s_in, k, s, p, d in zip(spatial, self.kernel, self.stride, pad, self.dilation):
            span = s_in + 2 * p - d * (k - 1) - 1
            if span < 0:
                raise ShapeError(
                    f"{op}: input spatial size {spatial} is too small for kernel {self.kernel} "
                    f"(padding {pad}, dilation {self.dilation})"
                )
            o = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (o - 1) * s >= s_in + p:
                o -= 1
            self.out.append(o)
            extra = max(0, (o - 1) * s + d * (k - 1) + 1 - (s_in + 2 * p))
            pairs.append((p, p + extra))
        self.pad = tuple(pairs)
        self.spatial = tuple(spatial)
        #: Non-overlapping windows that need no padding: max pooling then works on a reshaped view.
        self.tiled = (
            self.stride == self.kernel
            and all(d == 1 for d in self.dilation)
            and all(p == (0, 0) for p in self.pad)
        )

    def tile_shape(self, lead: tuple[int, ...]) -> tuple[int, ...]:
        """(*lead, o0, k0, o1, k1, ...): the tiled input with each window's offsets as their own axes."""
        return lead + tuple(n for o, k in zip(self.out, self.kernel) for n in (o, k))

    def tile_crop(self) -> tuple[Any, ...]:
        """The index of the part of the input the windows cover (a trailing tail may fit no window)."""
        return (Ellipsis, *(slice(0, o * k) for o, k in zip(self.out, self.kernel)))

    def tile_offsets(self, nlead: int) -> list[tuple[Any, ...]]:
        """Per flat kernel offset (row-major, as ``regions``), the index of that offset in the tiled view."""
        return [
            (slice(None),) * nlead + tuple(i for a in offset for i in (slice(None), a))
            for offset in itertools.product(*(range(k) for k in self.kernel))
        ]

    def regions(self) -> Any:
        """(flat kernel offset, slices into the padded input) for each kernel offset."""
        for j, offset in enumerate(itertools.product(*(range(k) for k in self.kernel))):
            yield (
                j,
                tuple(
                    slice(o * d, o * d + s * (n - 1) + 1, s)
                    for o, d, s, n in zip(offset, self.dilation, self.stride, self.out)
                ),
            )


def _flat_windows(x: np.ndarray, g: _Pool, fill: float) -> np.ndarray:
    """(N, C, *out, K): every window as a row (one copy)."""
    win = windows(pad_spatial(x, g.pad, fill), g.kernel, g.stride, g.dilation, tuple(g.out))
    return win.reshape(*win.shape[: 2 + len(g.kernel)], -1)


class _Gather(Function):
    """y = x at the chosen window position ``idx`` (max pooling's forward with the indices fixed)."""

    uses_inputs = False

    def __init__(self, g: _Pool, idx: np.ndarray):
        self.g, self.idx = g, idx

    def forward(self, x):
        self.x_shape = x.shape
        return np.take_along_axis(_flat_windows(x, self.g, 0.0), self.idx[..., None], -1)[..., 0]

    def backward(self, gy):
        return _Scatter(self.g, self.idx, self.x_shape)(gy)


class _Scatter(Function):
    """The adjoint of ``_Gather``: each output's gradient goes to its window's chosen position."""

    uses_inputs = False

    def __init__(self, g: _Pool, idx: np.ndarray, x_shape: tuple[int, ...]):
        self.g, self.idx, self.x_shape = g, idx, x_shape

    def forward(self, gy):
        g = self.g
        if g.tiled:
            gx = _tiled_scatter(gy, self.idx, self.x_shape, g)
            if gx is not None:
                return gx
        nlead = len(self.x_shape) - len(g.kernel)
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(self.x_shape[nlead:], g.pad))
        gxp = backend.zeros(self.x_shape[:nlead] + padded, gy.dtype, gy)
        zero = backend.zeros((), gy.dtype, gy)
        for j, region in g.regions():
            gxp[(slice(None),) * nlead + region] += np.where(self.idx == j, gy, zero)
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.x_shape[nlead:], g.pad))
        return gxp[(slice(None),) * nlead + crop]

    def backward(self, ggx):
        return _Gather(self.g, self.idx)(ggx)


def _tiles(x: np.ndarray, g: _Pool) -> np.ndarray:
    """``x`` (N, C, *spatial) cut into ``g``'s non-overlapping windows: (N, C, o0, k0, o1, k1, ...).

    A view when the windows cover the input exactly (the tail that fits no window is cropped otherwise).
    """
    return x[g.tile_crop()].reshape(g.tile_shape(x.shape[: x.ndim - len(g.kernel)]))


def _tiled_argmax(x: np.ndarray, g: _Pool) -> tuple[np.ndarray, np.ndarray] | None:
    """Max and first arg-max of each window when ``g.tiled``, by whole-array ufuncs over one strided view
    per kernel offset (no copy of the windows, unlike ``argmax`` over them). None when ``x`` holds a NaN,
    which must win its window as in torch: the general path handles that."""
    xp = backend.get_array_module(x)
    if x.dtype.kind == "f" and bool(xp.isnan(x.sum())):  # also true for inf - inf: the general path is exact
        return None
    tiles = _tiles(x, g)
    windows_at = [tiles[offset] for offset in g.tile_offsets(x.ndim - len(g.kernel))]
    best = windows_at[0].copy()
    for window_j in windows_at[1:]:
        xp.maximum(best, window_j, out=best)
    # The first j with window_j == best, from the last offset back: first = (window_j != best) * (1 + first).
    first = xp.zeros(best.shape, dtype=np.intp)
    for window_j in reversed(windows_at[:-1]):
        first += 1
        first *= window_j != best
    return best, first


def _tiled_scatter(gy: np.ndarray, idx: np.ndarray, x_shape: tuple[int, ...], g: _Pool) -> np.ndarray | None:
    """The adjoint of ``_tiled_argmax``: each window's gradient written at its arg-max (no overlaps). None
    when ``gy`` is not finite (``inf * 0`` would put NaN where torch puts 0)."""
    xp = backend.get_array_module(gy)
    if not bool(xp.isfinite(gy.sum())):
        return None
    nlead = len(x_shape) - len(g.kernel)
    tile_shape = g.tile_shape(x_shape[:nlead])
    exact = all(o * k == n for o, k, n in zip(g.out, g.kernel, x_shape[nlead:]))
    gx = xp.zeros(x_shape if exact else tile_shape, dtype=gy.dtype)
    tiles = gx.reshape(tile_shape)  # a view of gx
    for j, offset in enumerate(g.tile_offsets(nlead)):
        xp.multiply(gy, idx == j, out=tiles[offset])
    if exact:
        return gx
    full = xp.zeros(x_shape, dtype=gy.dtype)
    covered = full[g.tile_crop()]  # a view
    covered[...] = tiles.reshape(covered.shape)
    return full


class _MaxPool(Function):
    uses_inputs = False

    def __init__(self, g: _Pool):
        self.g = g

    def forward(self, x):
        self.x_shape = x.shape
        if self.g.tiled:
            found = _tiled_argmax(x, self.g)
            if found is not None:
                y, self.idx = found
                return y
        flat = _flat_windows(x, self.g, -np.inf)
        self.idx = np.argmax(flat, axis=-1)
        return np.take_along_axis(flat, self.idx[..., None], -1)[..., 0]

    def backward(self, gy):
        return _Scatter(self.g, self.idx, self.x_shape)(gy)


class _WindowSum(Function):
    """y = sum of each (zero-padded) window."""

    uses_inputs = False

    def __init__(self, g: _Pool):
        self.g = g

    def forward(self, x):
        self.x_shape = x.shape
        nd = len(self.g.kernel)
        win = windows(
            pad_spatial(x, self.g.pad), self.g.kernel, self.g.stride, self.g.dilation, tuple(self.g.out)
        )
        return win.sum(axis=tuple(range(win.ndim - nd, win.ndim)))

    def backward(self, gy):
        return _WindowSpread(self.g, self.x_shape)(gy)


class _WindowSpread(Function):
    """The adjoint of ``_WindowSum``: add each output's gradient to every position of its window."""

    uses_inputs = False

    def __init__(self, g: _Pool, x_shape: tuple[int, ...]):
        self.g, self.x_shape = g, x_shape

    def forward(self, gy):
        g = self.g
        nlead = len(self.x_shape) - len(g.kernel)
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(self.x_shape[nlead:], g.pad))
        gxp = backend.zeros(self.x_shape[:nlead] + padded, gy.dtype, gy)
        for _, region in g.regions():
            gxp[(slice(None),) * nlead + region] += gy
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.x_shape[nlead:], g.pad))
        return gxp[(slice(None),) * nlead + crop]

    def backward(self, ggx):
        return _WindowSum(self.g)(ggx)


def _check_input(x: Tensor, nd: int, op: str) -> tuple[Tensor, bool]:
    """The input as a batch (N, C, *spatial), and whether it came unbatched."""
    if x.ndim not in (nd + 1, nd + 2):
        shape = "(N, C, L)" if nd == 1 else "(N, C, H, W)" if nd == 2 else "(N, C, D, H, W)"
        raise ShapeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input {shape}, got shape {x.shape}")
    if any(s == 0 for s in x.shape[1:]):
        raise ShapeError(f"{op}: expected non-empty spatial and channel dims, got shape {x.shape}")
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


def _max_pool(
    nd: int,
    op: str,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,  # noqa: A002
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    x, unbatched = _check_input(as_tensor(input, op), nd, op)
    g = _Pool(op, x.shape[-nd:], kernel_size, stride, padding, dilation, ceil_mode)
    f = _MaxPool(g)
    y = f(x)
    if unbatched:
        y = y.squeeze(0)
    if not return_indices:
        return y
    offsets = np.unravel_index(f.idx, g.kernel)
    xp = backend.get_array_module(f.idx)
    grids = xp.meshgrid(*(xp.arange(o) for o in g.out), indexing="ij")
    pos = [
        grid * s - lo + off * d
        for grid, s, (lo, _), off, d in zip(grids, g.stride, g.pad, offsets, g.dilation)
    ]
    flat = np.ravel_multi_index(tuple(pos), g.spatial, mode="clip")
    return y, _new((flat[0] if unbatched else flat).astype(np.int64))


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,  # noqa: A002
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling over the last dim of ``(N, C, L)`` or ``(C, L)`` input (``return_indices``: argmax too)."""
    return _max_pool(
        1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,  # noqa: A002
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over (kh, kw) windows; ``stride`` defaults to ``kernel_size``; ties send the gradient to the first.

    >>> import chainrule as cr
    >>> cr.nn.functional.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool(
        2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,  # noqa: A002
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling over the last three dims of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _max_pool(
        3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _counts(g: _Pool, include_pad: bool) -> np.ndarray:
    """How many elements each window averages over (separable: an outer product of per-dim counts)."""
    total = np.ones((), dtype=np.float64)
    for s_in, k, s, (lo, _), o in zip(g.spatial, g.kernel, g.stride, g.pad, g.out):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, s_in + lo)
        if not include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, s_in)
        total = np.multiply.outer(total, (end - start).astype(np.float64))
    return total


def _avg_pool(
    nd: int,
    op: str,
    input: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,  # noqa: A002
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    x, unbatched = _check_input(as_tensor(input, op), nd, op)
    g = _Pool(op, x.shape[-nd:], kernel_size, stride, padding, 1, ceil_mode)
    sums = _WindowSum(g)(x)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor must be not zero")
        y = sums / float(divisor_override)
    else:
        counts = _counts(g, count_include_pad)
        if np.all(counts == counts.flat[0]):
            y = sums / float(counts.flat[0])
        else:
            y = sums * _new(backend.to_device_of((1.0 / counts).astype(x.dtype), x.data))
    return y.squeeze(0) if unbatched else y


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,  # noqa: A002
    count_include_pad: bool = True,
) -> Tensor:
    """Average pooling over the last dim of ``(N, C, L)`` or ``(C, L)`` input (``F.avg_pool1d``)."""
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,  # noqa: A002
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over (kh, kw) windows; ``stride`` defaults to ``kernel_size``."""
    return _avg_pool(
        2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,  # noqa: A002
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average pooling over the last three dims of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _avg_pool(
        3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix over torch's bins [floor(i·size/out), ceil((i+1)·size/out))."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive_avg(nd: int, op: str, input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    x = as_tensor(input, op)
    _check_input(x, nd, op)  # validation only: the separable path handles any leading dims
    sizes = (
        (output_size,) * nd
        if isinstance(output_size, (int, np.integer)) or output_size is None
        else output_size
    )
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    spatial = x.shape[-nd:]
    out = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    if all(s % o == 0 for s, o in zip(spatial, out)):
        kernel = tuple(s // o for s, o in zip(spatial, out))
        return _avg_pool(nd, op, x, kernel, kernel, 0, False, True, None)
    # an inf or nan would reach every bin through the matrix's zeros (0 * inf is nan): average slices then
    finite = bool(np.isfinite(x.data).all()) if x.dtype.kind in "fc" else True
    y = x
    for i in range(nd):  # separable: average along one spatial axis at a time
        axis = x.ndim - nd + i
        if finite:
            m = _new(backend.to_device_of(_adaptive_matrix(spatial[i], out[i], x.dtype), x.data))
            y = matmul(m, y.swapaxes(axis, -2)).swapaxes(axis, -2)
            continue
        bins = []
        for j in range(out[i]):
            lo, hi = (j * spatial[i]) // out[i], -(-((j + 1) * spatial[i]) // out[i])
            bins.append(y[(slice(None),) * axis + (slice(lo, hi),)].mean(dim=axis, keepdim=True))
        y = cat(bins, dim=axis)
    return y


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling of ``(N, C, L)`` or ``(C, L)`` input to length ``output_size`` (torch's bin edges)."""
    return _adaptive_avg(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average into an (oh, ow) grid of torch's adaptive bins (``None`` keeps a dim)."""
    return _adaptive_avg(2, "adaptive_avg_pool2d", input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average into an (od, oh, ow) grid of torch's adaptive bins (``None`` keeps a dim)."""
    return _adaptive_avg(3, "adaptive_avg_pool3d", input, output_size)
