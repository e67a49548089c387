"""RMS and local-response normalisation, composed from differentiable ops (torch's formulas)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import ops
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor


def rms_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / sqrt(mean(x², last dims) + eps) · weight`` over the last ``len(normalized_shape)`` dims
    (``eps=None``: the dtype's machine epsilon, as torch).

    >>> import chainrule as cr
    >>> cr.nn.functional.rms_norm(cr.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    x = as_tensor(input, "rms_norm")
    shape = (
        (int(normalized_shape),)
        if isinstance(normalized_shape, (int, np.integer))
        else tuple(normalized_shape)
    )
    k = len(shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise ShapeError(
            f"rms_norm: Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise ShapeError(f"rms_norm: weight should have shape {shape}, got {tuple(weight.shape)}")
    if eps is None:
        eps = float(np.finfo(x.dtype if x.dtype.kind == "f" else np.float32).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    y = x * ops.rsqrt((x * x).mean(dim=dims, keepdim=True) + eps) if dims else x * ops.rsqrt(x * x + eps)
    return y if weight is None else y * weight


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """``x / (k + alpha · mean of x² over ``size`` neighbouring channels)^beta`` for (N, C, *) input (torch's
    zero-padded average over the channel window)."""
    x = as_tensor(input, "local_response_norm")
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if size < 1:
        raise ValueError(f"local_response_norm: size must be >= 1, got {size}")
    if x.data.size == 0:
        return x * 1
    sq = x * x
    c = x.shape[1]
    pad_before, pad_after = size // 2, (size - 1) // 2
    widths = [(0, 0)] * x.ndim
    widths[1] = (pad_before, pad_after)
    padded = ops.pad(sq, _flat_pad(widths))
    window = [padded[:, i : i + c] for i in range(size)]
    div = window[0]
    for part in window[1:]:
        div = div + part
    div = div / size
    return x / (div * alpha + k) ** beta


def _flat_pad(widths: list[tuple[int, int]]) -> tuple[int, ...]:
    """torch-style pad tuple (last dim first) from per-dim (before, after) pairs."""
    out: list[int] = []
    for before, after in reversed(widths):
        out += [before, after]
    return tuple(out)
