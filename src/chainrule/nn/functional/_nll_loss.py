"""Likelihood losses for counts and Gaussian targets: ``poisson_nll_loss`` and ``gaussian_nll_loss``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.nn.functional._utils import as_tensor, check_reduction, reduce, resolve_reduction
from chainrule.tensor import Tensor, _new


def _like(target: Any, x: Tensor) -> Tensor:
    return target if isinstance(target, Tensor) else _new(backend.asarray(target, x.dtype, x.data))


def poisson_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - t·x`` (``log_input``) or ``x - t·log(x + eps)``; ``full``
    adds Stirling's ``t·log t - t + ½·log(2πt)`` where ``t > 1``."""
    red = resolve_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    x = as_tensor(input, "poisson_nll_loss")
    t = _like(target, x)
    loss = ops.exp(x) - t * x if log_input else x - t * ops.log(x + eps)
    if full:
        # the term is only taken where t > 1: there t is used, elsewhere 2 (finite, then masked out), so a
        # target of 0 gives no 0 · log 0 (torch's target gradient is nan there; this one is 0)
        big = t.data > 1
        ts = ops.where(big, t, 2.0)
        stirling = ts * ops.log(ts) - ts + 0.5 * ops.log(2 * math.pi * ts)
        loss = loss + ops.where(big, stirling, _new(np.zeros_like(stirling.data)))
    return _apply(loss, red)


def _apply(loss: Tensor, reduction: str) -> Tensor:
    return reduce(loss, reduction)


def _homoscedastic_var(x: Tensor, v: Tensor) -> Tensor:
    """``var`` shaped to broadcast against ``input`` by torch's rules, or torch's ValueError."""
    if v.shape == x.shape:
        return v
    if x.shape[:-1] == v.shape:
        return v.unsqueeze(-1)
    if x.ndim == v.ndim and sum(b for a, b in zip(x.shape, v.shape, strict=True) if a != b) == 1:
        return v
    raise ValueError("var is of incorrect size")


def gaussian_nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood ``½·(log var + (input - target)² / var)`` (+ ½·log 2π with ``full``).

    ``var`` is clamped at ``eps`` with the gradient passing through the clamp (torch clamps under no_grad);
    it may have the input's shape, lack its last dim, or have one dim of size 1 where the input's differs.
    """
    x = as_tensor(input, "gaussian_nll_loss")
    t = _like(target, x)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        v = _new(np.full(x.shape, float(var), dtype=x.dtype))
    else:
        v = as_tensor(var, "gaussian_nll_loss", "var")
        if bool((v.data < 0).any()):
            raise ValueError("var has negative entry/entries")
    v = _homoscedastic_var(x, v)
    check_reduction(reduction, "gaussian_nll_loss")
    v = v + _new((np.maximum(v.data, eps) - v.data).astype(v.dtype, copy=False))
    d = x - t
    loss = 0.5 * (ops.log(v) + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply(loss, reduction)
