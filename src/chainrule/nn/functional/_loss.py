"""Losses, equal to torch's in value and gradient and finite for logits of any size.

``cross_entropy`` with class indices is ONE Function: the forward takes log-softmax once; the backward is
(softmax - smoothed one-hot)·weight / N, in NumPy on first-order passes and in tensor ops (so it can be
differentiated again) when a graph is being built. ``binary_cross_entropy_with_logits`` is one Function too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.nn.functional._activation import log_softmax, softmax
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor, check_reduction, reduce, resolve_reduction
from chainrule.tensor import Tensor, _new


# ---------------------------------------------------------------------------- class-index targets
class _Classes:
    """Validated class-index targets for an (N, C, d1, ...) or (C,) input, flattened to rows of C classes."""

    def __init__(self, x: Tensor, target: Any, weight: Tensor | None, ignore_index: int, op: str) -> None:
        t = target.data if isinstance(target, Tensor) else backend.asarray(target, like=target)
        t = backend.to_device_of(t, x.data)
        if t.dtype.kind not in "iu":
            raise TypeError(f"{op}: expected class indices of an integer dtype (int64), got {t.dtype}")
        if x.ndim == 0:
            raise ShapeError(f"{op}: input must have at least 1 dimension (classes), got a 0-d tensor")
        self.axis = 1 if x.ndim >= 2 else 0
        self.c = x.shape[self.axis]
        expected = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
        if t.shape != expected:
            raise ShapeError(
                f"{op}: expected target of shape {expected} (class indices) for input of shape {x.shape}, "
                f"got {t.shape}"
            )
        self.shape = t.shape
        flat = t.reshape(-1)
        self.valid = flat != ignore_index
        bad = self.valid & ((flat < 0) | (flat >= self.c))
        if bad.any():
            raise IndexError(f"{op}: Target {int(flat[bad][0])} is out of bounds for {self.c} classes")
        self.t = np.where(self.valid, flat, 0)
        w = None
        if weight is not None:
            w = weight.data if isinstance(weight, Tensor) else backend.asarray(weight, like=weight)
            w = backend.to_device_of(w, x.data)
            if w.shape != (self.c,):
                raise ShapeError(
                    f"{op}: weight should be a 1-D tensor of {self.c} elements, got shape {w.shape}"
                )
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        self.w = None if w is None else w.astype(dtype, copy=False)
        self.wt = (
            self.valid.astype(dtype) if w is None else self.w[self.t] * self.valid
        )  # weight of each row's target
        self.rows = backend.get_array_module(self.t).arange(self.t.size)

    def to_rows(self, a: np.ndarray) -> np.ndarray:
        """(N, C, d...) -> (N·d..., C)."""
        if a.ndim == 1:
            return a.reshape(1, -1)
        if a.ndim == 2:
            return a
        return np.moveaxis(a, 1, -1).reshape(-1, self.c)

    def from_rows(self, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if len(shape) <= 2:
            return rows.reshape(shape)
        moved = rows.reshape(shape[:1] + shape[2:] + (self.c,))
        return np.moveaxis(moved, -1, 1)

    def class_view(self, per_row: np.ndarray, ndim: int) -> np.ndarray:
        """A per-row vector reshaped to broadcast against the (N, C, d...) input (class dim of size 1)."""
        if ndim == 1:
            return per_row.reshape(())
        return per_row.reshape((*self.shape[:1], 1, *self.shape[1:]))


def _denominator(cls: _Classes) -> Any:
    return cls.wt.sum()


class _SoftmaxCrossEntropy(Function):
    """-Σ coef·log_softmax(x) for class-index targets (weights, ignore_index, label smoothing, reduction)."""

    uses_inputs = False

    def __init__(self, cls: _Classes, reduction: str, smoothing: float):
        self.cls, self.reduction, self.eps = cls, reduction, smoothing

    def forward(self, x):
        cls, eps = self.cls, self.eps
        self.in_shape = x.shape
        z = cls.to_rows(x)
        m = z.max(axis=1, keepdims=True)
        z = z - np.where(np.isfinite(m), m, 0)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.logp = logp
        picked = logp[cls.rows, cls.t]
        loss = -(cls.wt * picked)
        if eps:
            wl = logp if cls.w is None else logp * cls.w
            loss = (1 - eps) * loss - (eps / cls.c) * cls.valid * wl.sum(axis=1)
        if self.reduction == "none":
            return loss.reshape(cls.shape).astype(x.dtype, copy=False)
        total = loss.sum()
        self.scale = 1.0
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: nan, as torch
                self.scale = 1.0 / _denominator(cls)
                total = total * self.scale
        return backend.ensure_array(total).astype(x.dtype, copy=False)

    def _coefficients(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-row total weight A and, with label smoothing, the per-class part of the target distribution."""
        cls, eps = self.cls, self.eps
        a = cls.wt * (1 - eps)
        spread = None
        if eps:
            w = backend.ones((cls.c,), dtype, cls.t) if cls.w is None else cls.w
            spread = (eps / cls.c) * cls.valid[:, None] * w[None, :]
            a = a + spread.sum(axis=1)
        return a.astype(dtype, copy=False), spread

    def backward(self, gy):
        cls = self.cls
        dtype = self.logp.dtype
        a, spread = self._coefficients(dtype)
        scale = 1.0 if self.reduction == "none" else self.scale
        if not _grad_state.grad_enabled:
            g = np.exp(self.logp) * a[:, None]
            if spread is not None:
                g -= spread
            g[cls.rows, cls.t] -= cls.wt * (1 - self.eps)
            g = g * (gy.data.reshape(-1, 1) if self.reduction == "none" else gy.data * scale)
            return _new(cls.from_rows(g.astype(dtype, copy=False), self.in_shape))
        target = np.zeros_like(self.logp) if spread is None else spread.copy()
        target[cls.rows, cls.t] += cls.wt * (1 - self.eps)
        x = self.inputs[0]
        p = softmax(x, dim=cls.axis)
        g = p * _new(cls.class_view(a, x.ndim)) - _new(
            cls.from_rows(target.astype(dtype, copy=False), x.shape)
        )
        if self.reduction == "none":
            return g * (gy.unsqueeze(1) if x.ndim > 1 else gy)
        return g * (gy * scale)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits (N, C, d...) against class indices (N, d...) or probabilities (N, C, d...).

    Stable for any finite logits. Supports class ``weight``, ``ignore_index``, ``label_smoothing`` and
    ``reduction`` ('mean' divides by the total weight of the non-ignored targets, as torch).

    >>> import chainrule as cr
    >>> F = cr.nn.functional
    >>> round(float(F.cross_entropy(cr.tensor([[1e4, 0.0]]), cr.tensor([1]))), 1)
    10000.0
    """
    x = _float_logits(as_tensor(input, "cross_entropy"), "log_softmax")
    reduction = resolve_reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    t_dtype = target.dtype if isinstance(target, (Tensor, np.ndarray)) else np.asarray(target).dtype
    if t_dtype.kind == "f":
        if np.ndim(target) != x.ndim:  # torch reads targets without the class dim as class indices
            raise RuntimeError(f"expected target dtype to be Long or Byte, but got {t_dtype}")
        return _cross_entropy_probs(
            x, as_tensor(target, "cross_entropy", "target"), weight, reduction, label_smoothing
        )
    cls = _Classes(x, target, weight, ignore_index, "cross_entropy")
    return _SoftmaxCrossEntropy(cls, reduction, float(label_smoothing))(x)


def _float_logits(x: Tensor, kernel: str) -> Tensor:
    """torch has no integer kernels for these losses: integer logits are an error, not a truncated loss."""
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}" not implemented for {str(x.dtype)!r}')
    return x


def _cross_entropy_probs(
    x: Tensor, t: Tensor, weight: Tensor | None, reduction: str, smoothing: float
) -> Tensor:
    if t.shape != x.shape:
        raise ShapeError(
            f"cross_entropy: probability targets must have the input's shape {x.shape}, got {t.shape} "
            "(pass int64 class indices for hard labels)"
        )
    axis = 1 if x.ndim >= 2 else 0
    c = x.shape[axis]
    logp = log_softmax(x, dim=axis)
    if smoothing:
        t = t * (1 - smoothing) + smoothing / c
    if weight is not None:
        w = as_tensor(weight, "cross_entropy", "weight")
        logp = logp * (w.reshape(-1, *(1,) * (x.ndim - 2)) if x.ndim > 2 else w)
    loss = -(logp * t).sum(dim=axis)
    if reduction == "mean":
        return loss.sum() / max(x.data.size // max(c, 1), 1)
    return reduce(loss, reduction)


class _NLLLoss(Function):
    """-Σ weight[t]·x[t] over rows (the input is log-probabilities)."""

    uses_inputs = False

    def __init__(self, cls: _Classes, reduction: str):
        self.cls, self.reduction = cls, reduction

    def forward(self, x):
        cls = self.cls
        self.in_shape, self.dtype = x.shape, x.dtype
        picked = cls.to_rows(x)[cls.rows, cls.t]
        loss = -(cls.wt * picked)
        if self.reduction == "none":
            return loss.reshape(cls.shape).astype(x.dtype, copy=False)
        self.scale = 1.0
        with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: nan, as torch
            if self.reduction == "mean":
                self.scale = 1.0 / _denominator(cls)
            return backend.ensure_array(loss.sum() * self.scale).astype(x.dtype, copy=False)

    def backward(self, gy):
        cls = self.cls
        rows = backend.zeros((cls.t.size, cls.c), self.dtype, cls.t)
        rows[cls.rows, cls.t] = -cls.wt
        g = _new(cls.from_rows(rows, self.in_shape))
        if self.reduction == "none":
            return g * (gy.unsqueeze(1) if len(self.in_shape) > 1 else gy)
        return g * (gy * self.scale)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C, d...) at class indices ``target``."""
    x = _float_logits(as_tensor(input, "nll_loss"), "nll_loss")
    reduction = resolve_reduction(size_average, reduce, reduction, "nll_loss")
    cls = _Classes(x, target, weight, ignore_index, "nll_loss")
    return _NLLLoss(cls, reduction)(x)


# ---------------------------------------------------------------------------- regression losses
def _pair(input: Any, target: Any, op: str, warn: bool = True) -> tuple[Tensor, Tensor]:
    """Input and target as tensors that broadcast; like torch, warn when their sizes differ (an (N, 1)
    output against (N,) targets broadcasts to (N, N): a silently wrong loss)."""
    x = as_tensor(input, op)
    t = target if isinstance(target, Tensor) else _new(backend.asarray(target, x.dtype, x.data))
    if warn and t.shape != x.shape:
        warnings.warn(
            f"Using a target size ({t.shape}) that is different to the input size ({x.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    try:
        np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: input of shape {x.shape} and target of shape {t.shape} do not broadcast"
        ) from None
    return x, t


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mean squared error: mean((input - target)²) over ALL elements (not just the batch)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "mse_loss")
    x, t = _pair(input, target, "mse_loss")
    d = x - t
    return _reduce(d * d, reduction)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return reduce(loss, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """Mean absolute error."""
    reduction = resolve_reduction(size_average, reduce, reduction, "l1_loss")
    x, t = _pair(input, target, "l1_loss")
    return _reduce(ops.abs(x - t), reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (L1 when beta = 0)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    x, t = _pair(input, target, "smooth_l1_loss")
    d = x - t
    ad = ops.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = ops.where(ad.data < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta)."""
    check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    x, t = _pair(input, target, "huber_loss")
    d = x - t
    ad = ops.abs(d)
    loss = ops.where(ad.data < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------- binary losses
class _BinaryCrossEntropy(Function):
    """-(t·log x + (1-t)·log(1-x)), each log clamped at -100 (as torch). The backward is torch's in tensor
    ops: (x - t) / max((1 - x)·x, 1e-12) for the input and -logit(x) for the target, so that second-order
    gradients (including the target gradient's dependence on x) match torch's."""

    def forward(self, x, t):
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.log(x), np.log1p(-x)
        return -(t * np.maximum(log_x, -100) + (1 - t) * np.maximum(log_1mx, -100))

    def backward(self, gy):
        x, t = self.inputs
        need_x, need_t = self.needs_input_grad
        gx = gt = None
        if need_x:
            gx = gy * (x - t) / ops.clamp((1 - x) * x, min=1e-12)
        if need_t:  # unclamped logs, as torch: infinite at x = 0 or 1
            gt = gy * (ops.log1p(-x) - ops.log(x))
        return gx, gt


def _check_probabilities(values: Any, what: str) -> None:
    """torch's RuntimeError unless every value is in [0, 1]; NaN is not (it would give a NaN loss quietly)."""
    if not np.all((values >= 0) & (values <= 1)):
        raise RuntimeError(f"binary_cross_entropy: all elements of {what} should be between 0 and 1")


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,  # noqa: A002
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] (logs clamped at -100, as torch)."""
    reduction = resolve_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    x = as_tensor(input, "binary_cross_entropy")
    t = target if isinstance(target, Tensor) else _new(backend.asarray(target, x.dtype, x.data))
    if t.shape != x.shape:
        raise ShapeError(
            f"binary_cross_entropy: Using a target size ({t.shape}) that is different to the input size "
            f"({x.shape}) is deprecated. Please ensure they have the same size."
        )
    _check_probabilities(x.data, "input")
    _check_probabilities(t.data, "target")
    loss = _BinaryCrossEntropy()(x, t.to(x.dtype) if t.dtype != x.dtype else t)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class _BCEWithLogits(Function):
    """(1 - t)·x + (1 + (pw - 1)·t)·softplus(-x): finite for any logits; backward in tensor ops."""

    def forward(self, x, t, pw=None):
        sp_neg = np.logaddexp(0, -x).astype(x.dtype, copy=False)  # softplus(-x) = log(1 + e^-x)
        if pw is None:
            return (1 - t) * x + sp_neg
        return (1 - t) * x + (1 + (pw - 1) * t) * sp_neg

    def backward(self, gy):
        x, t = self.inputs[0], self.inputs[1]
        pw = self.inputs[2] if len(self.inputs) > 2 else None
        need = self.needs_input_grad
        s = ops.sigmoid(x)
        gx = gt = gpw = None
        if need[0]:
            gx = gy * (s - t) if pw is None else gy * ((1 - t) - (1 + (pw - 1) * t) * (1 - s))
        if need[1] or (pw is not None and need[2]):
            sp_neg = ops.softplus(-x, 1.0, float("inf"))
            if need[1]:
                gt = gy * -x if pw is None else gy * ((pw - 1) * sp_neg - x)
            if pw is not None and need[2]:
                gpw = gy * t * sp_neg
        return (gx, gt) if pw is None else (gx, gt, gpw)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,  # noqa: A002
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step (finite loss and gradient for logits of ±1e4).

    ``pos_weight`` weighs the positive term of each class (broadcast along the last dim).
    """
    reduction = resolve_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    x = as_tensor(input, "binary_cross_entropy_with_logits")
    t = target if isinstance(target, Tensor) else _new(backend.asarray(target, x.dtype, x.data))
    if t.shape != x.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: Target size ({t.shape}) must be the same as input size "
            f"({x.shape})"
        )
    if t.dtype != x.dtype:
        t = t.to(x.dtype)
    if pos_weight is None:
        loss = _BCEWithLogits()(x, t)
    else:
        pw = as_tensor(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
        loss = _BCEWithLogits()(x, t, pw)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------- divergences
def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,  # noqa: A002
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target ‖ exp(input)) pointwise: target·(log target - input), 0 where target = 0.

    ``input`` holds log-probabilities; ``reduction='batchmean'`` (sum / batch size) is the true KL divergence.
    """
    reduction = resolve_reduction(size_average, reduce, reduction, "kl_div", ("batchmean",))
    x, t = _pair(input, target, "kl_div", warn=False)
    if log_target:
        loss = ops.exp(t) * (t - x)
    elif t.requires_grad:
        positive = t.data > 0
        safe = ops.where(positive, t, 1.0)
        loss = ops.where(positive, t * ops.log(safe), 0.0) - t * x
    else:
        td = t.data
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = np.where(td > 0, td * np.log(np.where(td > 0, td, 1)), 0).astype(x.dtype, copy=False)
        loss = _new(ent) - t * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)
