"""``unfold`` (im2col) and ``fold`` (col2im): two linear Functions, each the other's adjoint.

``unfold`` copies every (zero-padded) sliding window into a column, (N, C·kh·kw, L); ``fold`` adds each
column back at its window (overlaps add up). Each one's backward is the other, so every derivative order
works, and neither multiplies by a 0/1 matrix (an ``inf`` stays in its own windows, as in torch).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.nn.functional._conv import ShapeError, out_size, pad_spatial, windows
from chainrule.nn.functional._utils import as_tensor, ntuple
from chainrule.tensor import Tensor


class _Geometry:
    """Kernel, dilation, padding and stride of the windows over a spatial size, and the window grid."""

    def __init__(self, spatial: tuple[int, ...], kernel_size, dilation, padding, stride, op: str) -> None:
        nd = len(spatial)
        self.spatial = tuple(spatial)
        self.kernel = ntuple(kernel_size, nd, "kernel_size", op, minimum=1)
        self.dilation = ntuple(dilation, nd, "dilation", op, minimum=1)
        self.pad = tuple((p, p) for p in ntuple(padding, nd, "padding", op, minimum=0))
        self.stride = ntuple(stride, nd, "stride", op, minimum=1)
        self.out = tuple(
            out_size(s, k, st, p, d)
            for s, k, st, p, d in zip(spatial, self.kernel, self.stride, self.pad, self.dilation)
        )
        if any(o <= 0 for o in self.out):
            raise ShapeError(
                f"{op}: given input spatial size {self.spatial}, kernel_size {self.kernel}, dilation "
                f"{self.dilation}, padding {tuple(p for p, _ in self.pad)}, stride {self.stride}, the "
                f"calculated number of blocks {self.out} is too small (non-positive)"
            )


def _unfold(x: np.ndarray, g: _Geometry) -> np.ndarray:
    nd = len(g.kernel)
    win = windows(pad_spatial(x, g.pad), g.kernel, g.stride, g.dilation, g.out)  # (N, C, *out, *k)
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
    n, c = x.shape[:2]
    return win.transpose(order).reshape(n, c * int(np.prod(g.kernel)), int(np.prod(g.out)))


def _fold(cols: np.ndarray, g: _Geometry) -> np.ndarray:
    n = cols.shape[0]
    c = cols.shape[1] // int(np.prod(g.kernel))
    blocks = cols.reshape(n, c, *g.kernel, *g.out)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(g.spatial, g.pad))
    out = backend.zeros((n, c, *padded), cols.dtype, cols)
    for offset in itertools.product(*(range(k) for k in g.kernel)):
        region = tuple(
            slice(o * d, o * d + s * (m - 1) + 1, s)
            for o, d, s, m in zip(offset, g.dilation, g.stride, g.out)
        )
        out[(slice(None), slice(None), *region)] += blocks[(slice(None), slice(None), *offset)]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(g.spatial, g.pad))
    return out[(slice(None), slice(None), *crop)]


class _Unfold(Function):
    uses_inputs = False

    def __init__(self, g: _Geometry):
        self.g = g

    def forward(self, x):
        return _unfold(x, self.g)

    def backward(self, gy):
        return _Fold(self.g)(gy)


class _Fold(Function):
    uses_inputs = False

    def __init__(self, g: _Geometry):
        self.g = g

    def forward(self, cols):
        return _fold(cols, self.g)

    def backward(self, gy):
        return _Unfold(self.g)(gy)


def unfold(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """Sliding (kh, kw) blocks of (N, C, H, W) (or unbatched (C, H, W)) as columns (N, C·kh·kw, L).

    >>> import chainrule as cr
    >>> cr.nn.functional.unfold(cr.ones(1, 2, 4, 4), 2).shape
    (1, 8, 9)
    """
    x = as_tensor(input, "unfold")
    if x.ndim not in (3, 4) or any(s == 0 for s in x.shape[1:]):
        raise ShapeError(
            f"unfold: expected a non-empty 3-D (unbatched) or 4-D (batched) input, got shape {x.shape}"
        )
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    y = _Unfold(_Geometry(x.shape[2:], kernel_size, dilation, padding, stride, "unfold"))(x)
    return y.squeeze(0) if unbatched else y


def fold(
    input: Tensor,  # noqa: A002
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """Sum columns (N, C·kh·kw, L) (or unbatched (C·kh·kw, L)) back into (N, C, *output_size): col2im."""
    x = as_tensor(input, "fold")
    if x.ndim not in (2, 3) or any(s == 0 for s in x.shape[-2:]):
        raise ShapeError(
            f"fold: expected a non-empty 2-D (unbatched) or 3-D (batched) input, got shape {x.shape}"
        )
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    size = ntuple(output_size, 2, "output_size", "fold", minimum=1)
    g = _Geometry(size, kernel_size, dilation, padding, stride, "fold")
    k = int(np.prod(g.kernel))
    if x.shape[1] % k:
        raise ShapeError(
            f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
            f"got input.size(1)={x.shape[1]} and kernel_size={g.kernel}"
        )
    if x.shape[2] != int(np.prod(g.out)):
        raise ShapeError(
            f"fold: given output_size={size}, kernel_size={g.kernel}, dilation={g.dilation}, padding="
            f"{tuple(p for p, _ in g.pad)}, stride={g.stride}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {' * '.join(map(str, g.out))} = {int(np.prod(g.out))}, "
            f"but got input.size(2)={x.shape[2]}"
        )
    y = _Fold(g)(x)
    return y.squeeze(0) if unbatched else y
