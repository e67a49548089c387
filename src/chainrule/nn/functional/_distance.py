"""Distances between vectors: ``pairwise_distance`` (row by row) and ``pdist`` (all pairs of rows)."""

from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``‖x1 - x2 + eps‖_p`` over the last dim, x1 and x2 broadcast (torch's formula, eps inside).

    >>> import chainrule as cr
    >>> cr.nn.functional.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    a, b = as_tensor(x1, "pairwise_distance", "x1"), as_tensor(x2, "pairwise_distance", "x2")
    ndim = max(a.ndim, b.ndim)
    d = a - b + eps
    if ndim == 0:
        return ops.abs(d)
    return ops.norm(d, p, ndim - 1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """The p-norm distances between all pairs of rows ``i < j`` of an (N, M) input, in row-major order:
    a vector of N·(N-1)/2 values (the gradient at a zero distance is 0, as torch's)."""
    x = as_tensor(input, "pdist")
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: {x.dtype}")
    if not p >= 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    i, j = np.triu_indices(x.shape[0], 1)
    return ops.norm(x[i] - x[j], p, -1)
