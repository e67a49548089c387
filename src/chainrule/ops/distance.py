"""``cdist``: p-norm distances between the rows of two batches of row vectors."""

from __future__ import annotations

import numpy as np

from chainrule.ops.reduce import norm
from chainrule.tensor import Tensor

_COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def cdist(
    x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
) -> Tensor:
    """``‖x1[..., i, :] - x2[..., j, :]‖_p`` for (B..., P, M) and (B..., R, M) inputs: a (B..., P, R) result.

    Computed from the differences for every ``compute_mode`` (torch's matrix-product shortcut for p = 2 only
    changes rounding); the gradient at a zero distance is 0, as torch's.

    >>> import chainrule as cr
    >>> cr.cdist(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cdist(): argument '{name}' must be a Tensor, not {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {t.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    try:
        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: batch dims of x1 {x1.shape} and x2 {x2.shape} do not broadcast") from None
    a = x1.expand(*batch, *x1.shape[-2:])
    b = x2.expand(*batch, *x2.shape[-2:])
    if x1.dtype != x2.dtype:
        dtype = np.promote_types(x1.dtype, x2.dtype)
        a, b = a.to(dtype), b.to(dtype)
    return norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)
