"""Convolution (1-, 2- and 3-D, with stride, padding, dilation and groups) by im2col and one GEMM.

Three Functions close under differentiation, so every derivative order is exact:

* ``ConvNd(x, w)``           the convolution: im2col (a strided view, copied once) then one matmul;
* ``ConvGradInput(gy, w)``   its input gradient = the transposed convolution: one matmul then col2im, a loop
                             over kernel offsets (kh·kw iterations adding strided slices, no ``np.add.at``,
                             the batch innermost so each slice is long contiguous runs);
* ``ConvGradWeight(x, gy)``  its weight gradient: im2col then one matmul.

Each one's backward is written with the other two. ``conv_transpose*d`` is ``ConvGradInput`` plus a bias.
Internally columns are laid out (C·kh·kw, N·OH·OW), so every GEMM is a single BLAS call.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.nn.functional._utils import as_tensor, ntuple
from chainrule.tensor import Tensor


class ShapeError(RuntimeError, ValueError):
    """A shape problem: a ValueError, and a RuntimeError too (which torch raises for these)."""


class Geometry(NamedTuple):
    """Stride, per-dim (low, high) padding, dilation and groups of a convolution."""

    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int


def out_size(size: int, k: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    return (size + pad[0] + pad[1] - dilation * (k - 1) - 1) // stride + 1


def pad_spatial(x: np.ndarray, padding: tuple[tuple[int, int], ...], value: float = 0.0) -> np.ndarray:
    """Pad the trailing (spatial) dims of ``x``: a fresh array filled with ``value``, the input copied in."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], padding))
    xp = backend.get_array_module(x)
    out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
    out[(slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[lead:], padding))] = x
    return out


def windows(
    xp: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: tuple[int, ...],
) -> np.ndarray:
    """A read-only strided view (N, C, *out, *kernel) of the padded input: no copy."""
    nd = len(kernel)
    st = xp.strides
    shape = xp.shape[:2] + tuple(out) + tuple(kernel)
    strides = (
        st[:2]
        + tuple(st[2 + i] * stride[i] for i in range(nd))
        + tuple(st[2 + i] * dilation[i] for i in range(nd))
    )
    return backend.as_strided(xp, shape, strides)


def _im2col(x: np.ndarray, kernel: tuple[int, ...], g: Geometry, out: tuple[int, ...]) -> np.ndarray:
    """Columns (C·K, N·L): one copy of the strided window view."""
    nd = len(kernel)
    win = windows(pad_spatial(x, g.padding), kernel, g.stride, g.dilation, out)
    order = (1, *range(2 + nd, 2 + 2 * nd), 0, *range(2, 2 + nd))  # (C, *k, N, *out)
    n, c = x.shape[:2]
    return win.transpose(order).reshape(c * int(np.prod(kernel)), n * int(np.prod(out)))


def _channels_first(a: np.ndarray) -> np.ndarray:
    """(N, C, *S) -> (C, N·S) (copied)."""
    return np.swapaxes(a, 0, 1).reshape(a.shape[1], -1)


def conv_forward(x: np.ndarray, w: np.ndarray, g: Geometry, out: tuple[int, ...] | None = None) -> np.ndarray:
    """conv(x, w); ``out`` restricts the output to its first positions (the adjoint of a transposed conv)."""
    nd = w.ndim - 2
    kernel = w.shape[2:]
    if out is None:
        out = tuple(
            out_size(x.shape[2 + i], kernel[i], g.stride[i], g.padding[i], g.dilation[i]) for i in range(nd)
        )
    cols = _im2col(x, kernel, g, out)
    o = w.shape[0]
    if g.groups == 1:
        y = w.reshape(o, -1) @ cols  # (O, N·L)
    else:
        gr = g.groups
        y = np.matmul(w.reshape(gr, o // gr, -1), cols.reshape(gr, -1, cols.shape[1])).reshape(o, -1)
    y = y.reshape(o, x.shape[0], *out)
    return backend.get_array_module(y).ascontiguousarray(np.swapaxes(y, 0, 1))


def conv_grad_weight(x: np.ndarray, gy: np.ndarray, w_shape: tuple[int, ...], g: Geometry) -> np.ndarray:
    kernel = w_shape[2:]
    cols = _im2col(x, kernel, g, gy.shape[2:])  # (C·K, N·L)
    gyt = _channels_first(gy)  # (O, N·L)
    if g.groups == 1:
        gw = gyt @ cols.T
    else:
        gr = g.groups
        gw = np.matmul(
            gyt.reshape(gr, -1, gyt.shape[1]), cols.reshape(gr, -1, cols.shape[1]).transpose(0, 2, 1)
        )
    return gw.reshape(w_shape)


def conv_grad_input(gy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], g: Geometry) -> np.ndarray:
    nd = w.ndim - 2
    kernel = w.shape[2:]
    n, c = x_shape[:2]
    out = gy.shape[2:]
    # The batch goes innermost, (O, *out, N): each kernel offset's strided add below then moves runs of a
    # whole output row times the batch, not one short output row at a time.
    gyt = np.moveaxis(gy, 0, -1).reshape(gy.shape[1], -1)  # (O, L·N), copied
    o = w.shape[0]
    if g.groups == 1:
        dcols = w.reshape(o, -1).T @ gyt  # (C·K, L·N)
    else:
        gr = g.groups
        dcols = np.matmul(w.reshape(gr, o // gr, -1).transpose(0, 2, 1), gyt.reshape(gr, -1, gyt.shape[1]))
    dcols = dcols.reshape(c, *kernel, *out, n)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], g.padding))
    gxp = backend.zeros((c, *padded, n), dcols.dtype, dcols)
    for offset in itertools.product(*(range(k) for k in kernel)):
        region = tuple(
            slice(
                offset[i] * g.dilation[i],
                offset[i] * g.dilation[i] + g.stride[i] * (out[i] - 1) + 1,
                g.stride[i],
            )
            for i in range(nd)
        )
        gxp[(slice(None), *region)] += dcols[(slice(None), *offset)]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x_shape[2:], g.padding))
    gx = np.moveaxis(gxp[(slice(None), *crop)], -1, 0)  # (N, C, *spatial)
    return backend.get_array_module(gx).ascontiguousarray(gx)


class ConvNd(Function):
    """y = conv(x, w) (+ b); ``out`` (spatial size) crops the output (adjoint of a transposed conv)."""

    def __init__(self, geometry: Geometry, out: tuple[int, ...] | None = None):
        self.g, self.out = geometry, out

    def forward(self, x, w, b=None):
        y = conv_forward(x, w, self.g, self.out)
        if b is not None:
            y += b.reshape(-1, *(1,) * (w.ndim - 2))
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = ConvGradInput(self.g, x.shape)(gy, w) if need[0] else None
        gw = ConvGradWeight(self.g, w.shape)(x, gy) if need[1] else None
        if len(need) == 2:
            return gx, gw
        gb = gy.sum(dim=(0, *range(2, gy.ndim))) if need[2] else None
        return gx, gw, gb


class ConvGradInput(Function):
    """The transposed convolution of ``gy`` with ``w`` onto an input of shape ``x_shape``."""

    def __init__(self, geometry: Geometry, x_shape: tuple[int, ...]):
        self.g, self.x_shape = geometry, tuple(x_shape)

    def forward(self, gy, w):
        return conv_grad_input(gy, w, self.x_shape, self.g)

    def backward(self, ggx):
        gy, w = self.inputs
        need = self.needs_input_grad
        g_gy = ConvNd(self.g, gy.shape[2:])(ggx, w) if need[0] else None
        g_w = ConvGradWeight(self.g, w.shape)(ggx, gy) if need[1] else None
        return g_gy, g_w


class ConvGradWeight(Function):
    """d conv(x, w) / d w contracted with ``gy``."""

    def __init__(self, geometry: Geometry, w_shape: tuple[int, ...]):
        self.g, self.w_shape = geometry, tuple(w_shape)

    def forward(self, x, gy):
        return conv_grad_weight(x, gy, self.w_shape, self.g)

    def backward(self, ggw):
        x, gy = self.inputs
        need = self.needs_input_grad
        g_x = ConvGradInput(self.g, x.shape)(gy, ggw) if need[0] else None
        g_gy = ConvNd(self.g, gy.shape[2:])(x, ggw) if need[1] else None
        return g_x, g_gy


# ---------------------------------------------------------------------------- argument handling
def _padding_pairs(
    padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...], op: str
) -> tuple[tuple[int, int], ...]:
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    return tuple((p, p) for p in ntuple(padding, nd, "padding", op, minimum=0))


def _batched(x: Tensor, nd: int, op: str) -> tuple[Tensor, bool]:
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    if x.ndim != nd + 2:
        dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)" if nd == 2 else "(N, C, D, H, W)"
        raise ShapeError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input of shape {dims}, "
            f"got input of shape {x.shape}"
        )
    return x, False


def _operands(nd: int, op: str, input: Any, weight: Any, layout: str) -> tuple[Tensor, Tensor, bool]:  # noqa: A002
    """Input (batched) and weight as Tensors, and whether the input was unbatched; ``layout`` names the
    weight's leading dims in the error for a weight of the wrong rank."""
    x = as_tensor(input, op)
    w = as_tensor(weight, op, "weight")
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be {nd + 2}-D ({layout}, *kernel), got {w.shape}")
    x, unbatched = _batched(x, nd, op)
    return x, w, unbatched


def _conv(
    nd: int,
    op: str,
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,  # noqa: A002
    dilation: Any,
    groups: int,
) -> Tensor:
    x, w, unbatched = _operands(nd, op, input, weight, "out_channels, in_channels/groups")
    stride_t = ntuple(stride, nd, "stride", op, minimum=1)
    dilation_t = ntuple(dilation, nd, "dilation", op, minimum=1)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    kernel = w.shape[2:]
    pads = _padding_pairs(padding, kernel, dilation_t, stride_t, op)
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: out_channels ({w.shape[0]}) must be divisible by groups ({groups})")
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(
            f"{op}: Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} "
            f"to have {w.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    for i in range(nd):
        padded = x.shape[2 + i] + sum(pads[i])
        if padded < dilation_t[i] * (kernel[i] - 1) + 1:
            sizes = tuple(x.shape[2 + j] + sum(pads[j]) for j in range(nd))
            dilated = tuple(dilation_t[j] * (kernel[j] - 1) + 1 for j in range(nd))
            raise ShapeError(
                f"{op}: padded input size {sizes} is smaller than the (dilated) kernel {dilated}"
            )
    if x.dtype != w.dtype and x.dtype.kind in "biu":
        x = x.to(w.dtype)
    g = Geometry(stride_t, pads, dilation_t, int(groups))
    if bias is None:
        y = ConvNd(g)(x, w)
    else:
        b = as_tensor(bias, op, "bias")
        if b.shape != (w.shape[0],):
            raise ShapeError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
        y = ConvNd(g)(x, w, b)
    return y.squeeze(0) if unbatched else y


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,  # noqa: A002
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of (N, C_in, L) by a (C_out, C_in/groups, k) weight."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,  # noqa: A002
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as torch) of (N, C_in, H, W) by (C_out, C_in/groups, kh, kw).

    >>> import chainrule as cr
    >>> F = cr.nn.functional
    >>> F.conv2d(cr.ones(1, 1, 4, 4), cr.ones(2, 1, 3, 3), padding=1).shape
    (1, 2, 4, 4)
    """
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,  # noqa: A002
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution of (N, C_in, D, H, W)."""
    return _conv(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def transposed_out_size(size: int, k: int, stride: int, pad: int, dilation: int, output_padding: int) -> int:
    return (size - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1


def _conv_transpose(
    nd: int,
    op: str,
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,  # noqa: A002
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Tensor:
    x, w, unbatched = _operands(nd, op, input, weight, "in_channels, out_channels/groups")
    stride_t = ntuple(stride, nd, "stride", op, minimum=1)
    dilation_t = ntuple(dilation, nd, "dilation", op, minimum=1)
    pad_t = ntuple(padding, nd, "padding", op, minimum=0)
    outpad_t = ntuple(output_padding, nd, "output_padding", op, minimum=0)
    for op_, s, d in zip(outpad_t, stride_t, dilation_t):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output padding must be smaller than either stride or dilation, got {outpad_t}"
            )
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if x.shape[1] != w.shape[0]:
        raise ShapeError(
            f"{op}: Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} "
            f"to have {w.shape[0]} channels, but got {x.shape[1]} channels instead"
        )
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: in_channels ({w.shape[0]}) must be divisible by groups ({groups})")
    kernel = w.shape[2:]
    out = tuple(
        transposed_out_size(x.shape[2 + i], kernel[i], stride_t[i], pad_t[i], dilation_t[i], outpad_t[i])
        for i in range(nd)
    )
    if any(o <= 0 for o in out):
        raise ShapeError(f"{op}: the output size {out} would be non-positive for input of shape {x.shape}")
    if x.dtype != w.dtype and x.dtype.kind in "biu":
        x = x.to(w.dtype)
    g = Geometry(stride_t, tuple((p, p) for p in pad_t), dilation_t, int(groups))
    y = ConvGradInput(g, (x.shape[0], w.shape[1] * groups, *out))(x, w)
    if bias is not None:
        b = as_tensor(bias, op, "bias")
        if b.shape != (w.shape[1] * groups,):
            raise ShapeError(f"{op}: bias must have shape ({w.shape[1] * groups},), got {b.shape}")
        y = y + b.reshape(-1, *(1,) * nd)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,  # noqa: A002
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 1-D convolution; ``weight`` is (C_in, C_out/groups, k)."""
    return _conv_transpose(
        1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,  # noqa: A002
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 2-D convolution (``conv2d``'s input gradient); ``weight`` is (C_in, C_out/groups, kh, kw).

    >>> import chainrule as cr
    >>> F = cr.nn.functional
    >>> F.conv_transpose2d(cr.ones(1, 2, 3, 3), cr.ones(2, 1, 2, 2), stride=2).shape
    (1, 1, 6, 6)
    """
    return _conv_transpose(
        2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,  # noqa: A002
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 3-D convolution; ``weight`` is (C_in, C_out/groups, kd, kh, kw)."""
    return _conv_transpose(
        3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )
