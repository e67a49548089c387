"""Margin and embedding losses, composed from differentiable ops with torch's formulas (so their gradients,
including where a hinge is exactly at its kink, are torch's: ``clamp_min`` passes the gradient at 0 where
torch's formula uses it, ``relu`` does not where torch's kernel tests ``z > 0``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.nn.functional._activation import logsigmoid
from chainrule.nn.functional._distance import pairwise_distance
from chainrule.nn.functional._utils import as_tensor, reduce, resolve_reduction
from chainrule.tensor import Tensor, _new


def _target(target: Any, like: Tensor, op: str) -> Tensor:
    if isinstance(target, Tensor):
        return target
    return _new(backend.asarray(target, like.dtype, like.data))


def _hinge(z: Tensor) -> Tensor:
    """max(z, 0) with the gradient passing at z == 0 (torch's ``clamp_min``)."""
    return ops.clamp(z, min=0.0)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target · (input1 - input2) + margin)``, reduced."""
    red = resolve_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    x1, x2 = (
        as_tensor(input1, "margin_ranking_loss", "input1"),
        as_tensor(input2, "margin_ranking_loss", "input2"),
    )
    t = _target(target, x1, "margin_ranking_loss")
    if not x1.ndim == x2.ndim == t.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {x1.shape}, input2: {x2.shape}, target: {t.shape} "
        )
    return _reduce(_hinge(-t * (x1 - x2) + margin), red)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return reduce(loss, reduction)


def hinge_embedding_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``x`` where target is 1, ``max(0, margin - x)`` where target is -1 (torch's sum of two where-terms)."""
    red = resolve_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    x = as_tensor(input, "hinge_embedding_loss")
    t = _target(target, x, "hinge_embedding_loss").data
    zero = _new(np.zeros_like(x.data))
    out = ops.where(t != 1, _hinge(margin - x), zero) + ops.where(t != -1, x, zero)
    return _reduce(out, red)


def soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``log(1 + exp(-target · input))`` (torch's formula), reduced."""
    red = resolve_reduction(size_average, reduce, reduction, "soft_margin_loss")
    x = as_tensor(input, "soft_margin_loss")
    t = _target(target, x, "soft_margin_loss")
    return _reduce(ops.log1p(ops.exp(-x * t)), red)


def multilabel_soft_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Mean over classes (the last dim) of ``-(t·logσ(x) + (1-t)·logσ(-x))``, optionally weighted."""
    red = resolve_reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    x = as_tensor(input, "multilabel_soft_margin_loss")
    t = _target(target, x, "multilabel_soft_margin_loss")
    loss = -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    class_dim = x.ndim - 1
    c = x.shape[class_dim] if x.ndim else 1
    loss = loss.sum(dim=class_dim) / c if x.ndim else loss
    return _reduce(loss, red)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos - margin)`` where it is -1 (cos with torch's 1e-12
    added to each squared norm)."""
    red = resolve_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    a = as_tensor(input1, "cosine_embedding_loss", "input1")
    b = as_tensor(input2, "cosine_embedding_loss", "input2")
    t = _target(target, a, "cosine_embedding_loss")
    if t.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if t.ndim == 1 else 1
    if a.ndim != want or b.ndim != want:
        raise RuntimeError(
            f"{t.ndim}D target tensor expects {want}D input tensors, but found inputs with sizes "
            f"{list(a.shape)} and {list(b.shape)}."
        )
    d = t.ndim
    prod = (a * b).sum(dim=d)
    mag = ((a * a).sum(dim=d) + 1e-12) * ((b * b).sum(dim=d) + 1e-12)
    cos = prod / ops.sqrt(mag)
    zero = _new(np.zeros_like(cos.data))
    out = ops.where(t.data == 1, 1 - cos, zero) + ops.where(t.data == -1, _hinge(cos - margin), zero)
    return _reduce(out, red)


def _same_ndim(op: str, a: Tensor, p: Tensor, n: Tensor) -> None:
    if not a.ndim == p.ndim == n.ndim:
        raise RuntimeError(
            f"{op}: The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a.ndim}D, positive {p.ndim}D, and negative {n.ndim}D inputs"
        )


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the pairwise p-norm distance (``swap``: the smaller
    of d(a, n) and d(p, n))."""
    red = resolve_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    a, pos, neg = (
        as_tensor(t, "triplet_margin_loss", n)
        for t, n in ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))
    )
    _same_ndim("triplet_margin_loss", a, pos, neg)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(_hinge(margin + d_pos - d_neg), red)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``triplet_margin_loss`` with any ``distance_function`` (default ``pairwise_distance``)."""
    red = resolve_reduction(None, None, reduction, "triplet_margin_with_distance_loss")
    op = "triplet_margin_with_distance_loss"
    a, pos, neg = (
        as_tensor(t, op, n) for t, n in ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))
    )
    _same_ndim(op, a, pos, neg)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = ops.minimum(d_neg, dist(pos, neg))
    return _reduce(_hinge(margin + d_pos - d_neg), red)


def _class_targets(x: Tensor, target: Any, op: str) -> np.ndarray:
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected class indices of an integer dtype (int64), got {t.dtype}")
    return np.asarray(backend.to_device(t, "cpu"))


def multilabel_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Σ over target classes j (``target`` lists them, ended by -1) and non-target classes i of
    ``max(0, 1 - (x[j] - x[i])) / C`` per sample, for (C,) or (N, C) input."""
    red = resolve_reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    x = as_tensor(input, "multilabel_margin_loss")
    t = _class_targets(x, target, "multilabel_margin_loss")
    if x.ndim > 2 or t.shape != x.shape:
        raise RuntimeError(
            f"multilabel_margin_loss: inconsistent target size: {list(t.shape)} for input of size "
            f"{list(x.shape)}"
        )
    rows_x = x.reshape(1, -1) if x.ndim < 2 else x
    rows_t = t.reshape(rows_x.shape)
    n, c = rows_x.shape
    if ((rows_t < -1) | (rows_t >= c)).any():
        raise IndexError(f"multilabel_margin_loss: target values must be in [-1, {c}), got {rows_t.tolist()}")
    valid = np.cumprod(rows_t != -1, axis=1).astype(bool)  # entries before the first -1
    idx = np.where(valid, rows_t, 0)
    is_target = np.zeros((n, c), dtype=bool)
    is_target[np.nonzero(valid)[0], rows_t[valid]] = True
    picked = ops.take_along_dim(rows_x, _new(idx), 1)  # (N, K)
    z = 1 - picked.unsqueeze(2) + rows_x.unsqueeze(1)  # (N, K, C)
    mask = valid[:, :, None] & ~is_target[:, None, :]
    loss = (ops.relu(z) * _new(mask.astype(x.dtype))).sum(dim=(1, 2)) / c
    loss = loss.reshape(()) if x.ndim < 2 else loss
    return _reduce(loss, red)


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Σ_{i ≠ y} ``max(0, margin - x[y] + x[i])^p · weight[y] / C`` per sample (p is 1 or 2)."""
    red = resolve_reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = as_tensor(input, "multi_margin_loss")
    t_in = _class_targets(x, target, "multi_margin_loss")
    t = t_in.reshape(-1)
    if x.ndim > 2:
        raise RuntimeError(f"multi_margin_loss: expected 0-, 1- or 2-D input, got shape {x.shape}")
    rows_x = x.reshape(1, -1) if x.ndim < 2 else x
    n, c = rows_x.shape
    if t.shape != (n,):
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(t.shape)}")
    if ((t < 0) | (t >= c)).any():
        raise IndexError(
            f"multi_margin_loss: target out of range: values must be in [0, {c}), got {t.tolist()}"
        )
    picked = ops.take_along_dim(rows_x, _new(t[:, None]), 1)  # (N, 1)
    h = ops.relu(margin - picked + rows_x)
    if p == 2:
        h = h * h
    others = np.ones((n, c), dtype=x.dtype)
    others[np.arange(n), t] = 0
    h = h * _new(others)
    if weight is not None:
        w = as_tensor(weight, "multi_margin_loss", "weight")
        h = h * w[t].unsqueeze(1)
    loss = h.sum(dim=1) / c
    loss = loss.reshape(t_in.shape) if x.ndim < 2 else loss  # a 1-D input: the target's shape, as torch
    return _reduce(loss, red)
