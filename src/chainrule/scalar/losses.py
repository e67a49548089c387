"""Loss functions for the scalar engine, each a single fused node with PyTorch's numerics.

Every loss takes one prediction and one target (a float, or a Scalar) and returns a Scalar;
given equally long sequences of predictions and targets it returns their mean.

>>> from chainrule.scalar import Scalar
>>> p = Scalar(0.8).requires_grad_()
>>> round(binary_cross_entropy(p, 1.0).data, 4)
0.2231
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from chainrule.scalar.scalar import Scalar, from_op

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mean", "mse"]

# PyTorch clamps each log term of binary cross-entropy at -100 so that a confident wrong
# prediction costs 100 rather than inf, and bounds p * (1 - p) below by 1e-12 in the gradient
# (a float32 constant there, hence this exact value).
_LOG_FLOOR = -100.0
_EPS = 9.999999960041972e-13

Target = Scalar | float
Loss = Callable[[Scalar, Target], Scalar]


def mean(values: Sequence[Scalar]) -> Scalar:
    """The mean of Scalars as one node (cheaper than ``sum(values) / len(values)``)."""
    n = len(values)
    if n == 0:
        raise ValueError("mean of an empty sequence")
    total = math.fsum(v.data for v in values)
    return from_op(total / n, tuple(values), (1.0 / n,) * n, op="mean", const=n)


def _log_or_neg_inf(x: float) -> float:
    return math.log(x) if x > 0.0 else -math.inf


def _split(target: Target) -> tuple[float, tuple[Scalar, ...]]:
    """The target's value, and the target as an operand if it is a Scalar that requires grad."""
    if isinstance(target, Scalar):
        return target.data, ((target,) if target.requires_grad else ())
    if isinstance(target, numbers.Real):
        return float(target), ()
    raise TypeError(f"target must be a float or a Scalar, got {type(target).__name__}")


def _loss(
    op: str, value: float, pred: Scalar, t: float, target_nodes: tuple[Scalar, ...], d_pred: float, d_t: float
) -> Scalar:
    """The loss node: operands ``(pred, target)``, or ``pred`` alone with the target as the op's constant."""
    if target_nodes:
        return from_op(value, (pred, *target_nodes), (d_pred, d_t), op=op)
    return from_op(value, (pred,), (d_pred,), op=op, const=t)


def _check_pred(pred: object) -> Scalar:
    if not isinstance(pred, Scalar):
        raise TypeError(f"prediction must be a Scalar, got {type(pred).__name__}")
    return pred


def _bce(pred: Scalar, target: Target) -> Scalar:
    p = _check_pred(pred).data
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"binary_cross_entropy needs a prediction in [0, 1], got {p!r}")
    t, target_nodes = _split(target)
    log_p = _log_or_neg_inf(p)
    log_q = math.log1p(-p) if p < 1.0 else -math.inf
    loss = -(t * max(log_p, _LOG_FLOOR) + (1.0 - t) * max(log_q, _LOG_FLOOR))
    d_pred = (p - t) / max(p * (1.0 - p), _EPS)
    return _loss("binary_cross_entropy", loss, pred, t, target_nodes, d_pred, log_q - log_p)


def _bce_with_logits(logit: Scalar, target: Target) -> Scalar:
    x = _check_pred(logit).data
    t, target_nodes = _split(target)
    # max(x, 0) - x t + log(1 + e^-|x|): no overflow for any x.
    loss = max(x, 0.0) - x * t + math.log1p(math.exp(-abs(x)))
    if x >= 0.0:
        sig = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        sig = e / (1.0 + e)
    return _loss("binary_cross_entropy_with_logits", loss, logit, t, target_nodes, sig - t, -x)


def _squared_error(pred: Scalar, target: Target) -> Scalar:
    p = _check_pred(pred).data
    t, target_nodes = _split(target)
    diff = p - t
    return _loss("mse", diff * diff, pred, t, target_nodes, 2.0 * diff, -2.0 * diff)


def _apply(fn: Loss, pred: Scalar | Sequence[Scalar], target: Target | Sequence[Target]) -> Scalar:
    if isinstance(pred, Scalar):
        return fn(pred, target)  # type: ignore[arg-type]
    if not isinstance(pred, Sequence) or isinstance(pred, str):
        raise TypeError(f"prediction must be a Scalar or a sequence of Scalars, got {type(pred).__name__}")
    if not isinstance(target, Sequence) or isinstance(target, str):
        raise TypeError("a sequence of predictions needs a sequence of targets")
    preds, targets = list(pred), list(target)
    if len(preds) != len(targets):
        raise ValueError(f"got {len(preds)} predictions but {len(targets)} targets")
    return mean([fn(p, t) for p, t in zip(preds, targets)])


def binary_cross_entropy(pred: Scalar | Sequence[Scalar], target: Target | Sequence[Target]) -> Scalar:
    """``-(t log p + (1 - t) log(1 - p))`` for a probability ``p``, each log clamped at -100.

    The derivative is ``(p - t) / max(p (1 - p), 1e-12)``, finite even at ``p = 0`` or ``1``.
    Raises ``ValueError`` for a prediction outside ``[0, 1]``.
    """
    return _apply(_bce, pred, target)


def binary_cross_entropy_with_logits(
    logit: Scalar | Sequence[Scalar], target: Target | Sequence[Target]
) -> Scalar:
    """Binary cross-entropy of ``sigmoid(logit)``, computed from the logit without overflow.

    The derivative with respect to the logit is ``sigmoid(logit) - t``.
    """
    return _apply(_bce_with_logits, logit, target)


def mse(pred: Scalar | Sequence[Scalar], target: Target | Sequence[Target]) -> Scalar:
    """Squared error ``(p - t) ** 2`` (the mean of them for sequences)."""
    return _apply(_squared_error, pred, target)
