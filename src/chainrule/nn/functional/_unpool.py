"""``max_unpool1d/2d/3d``: write each value at its max-pooling index in a zero output (max pooling's
partial inverse); the gradient gathers at the same indices, as torch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor, ntuple
from chainrule.ops import gather
from chainrule.tensor import Tensor


class _Unpool(Function):
    """(*lead, L) values written at flat indices (*lead, L) of zeros (*lead, P); a repeated index keeps the
    last value, as torch's CPU kernel."""

    uses_inputs = False

    def __init__(self, idx: np.ndarray, size: int):
        self.idx, self.size = idx, size

    def forward(self, x):
        out = backend.zeros((*x.shape[:-1], self.size), x.dtype, x)
        rows = np.indices(x.shape[:-1]) if x.ndim > 1 else ()
        key = (*tuple(r[..., None] for r in rows), self.idx)
        out[key] = x
        return out

    def backward(self, gy):
        return gather(gy, -1, self.idx)


def _max_unpool(
    nd: int,
    op: str,
    input: Tensor,  # noqa: A002
    indices: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    output_size: Any,
) -> Tensor:
    x = as_tensor(input, op)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor, got {idx.dtype}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {x.shape}")
    if idx.shape != x.shape:
        raise ShapeError(
            f"{op}: Expected shape of indices to be same as that of the input tensor "
            f"({x.shape}) but got indices tensor with shape: {idx.shape}"
        )
    kernel = ntuple(kernel_size, nd, "kernel_size", op, minimum=1)
    empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    strides = kernel if empty else ntuple(stride, nd, "stride", op, minimum=1)
    pads = ntuple(padding, nd, "padding", op, minimum=0)
    spatial = x.shape[-nd:]
    if output_size is None:
        out = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(spatial, strides, pads, kernel))
    else:
        sizes = tuple(output_size)
        if len(sizes) == nd + 2 or (len(sizes) == nd + 1 and x.ndim == nd + 1):
            sizes = sizes[-nd:]
        if len(sizes) != nd:
            raise ValueError(f"{op}: output_size must have {nd} or {nd + 2} elements, got {output_size!r}")
        out = tuple(int(s) for s in sizes)
    total = int(np.prod(out))
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= total):
        raise RuntimeError(
            f"{op}: Found an invalid max index {int(idx.max())} (output volumes are of size {out})"
        )
    lead = x.shape[:-nd]
    flat_idx = backend.to_device_of(idx.reshape(*lead, -1).astype(np.int64), x.data)
    y = _Unpool(flat_idx, total)(x.reshape(*lead, -1))
    return y.reshape(*lead, *out)


def max_unpool1d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,  # noqa: A002
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool1d``: values at ``indices`` (``return_indices=True``), 0 elsewhere."""
    return _max_unpool(1, "max_unpool1d", input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,  # noqa: A002
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool2d``; indices are flat over each (H, W) plane."""
    return _max_unpool(2, "max_unpool2d", input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,  # noqa: A002
    output_size: Any = None,
) -> Tensor:
    """Partial inverse of ``max_pool3d``; indices are flat over each (D, H, W) volume."""
    return _max_unpool(3, "max_unpool3d", input, indices, kernel_size, stride, padding, output_size)
