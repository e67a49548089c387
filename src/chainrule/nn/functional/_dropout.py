"""Dropout: zero elements with probability ``p`` during training and scale the rest by 1/(1-p); alpha
dropout (for SELU networks) sets them to SELU's negative saturation and keeps the mean and variance."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule import random as _random
from chainrule.autograd.function import Function
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor, _new


class _MaskMul(Function):
    """y = x · mask for a constant mask (the mask already holds the 1/(1-p) scale)."""

    uses_inputs = False

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return gy * _new(self.mask)


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    keep = _random.generator().random(shape, dtype=np.float32) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return keep.astype(dtype) * dtype.type(scale)


def _in_place(x: Tensor, name: str, fn: Any) -> Tensor:
    """``fn(x)`` written into ``x`` (``inplace=True``; version bumped, recorded by autograd)."""
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415

    return inplace_op(x, name, fn)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero each element with probability ``p`` (when ``training``) and scale survivors by 1/(1-p).

    The mask comes from chainrule's global generator, so ``chainrule.manual_seed`` makes it repeatable.
    """
    x = as_tensor(input, "dropout")
    _check_p(p, "dropout")
    if not training or p == 0:
        return x
    if inplace:
        return _in_place(x, "dropout_", lambda z: dropout(z, p, training))
    return _MaskMul(backend.to_device_of(_keep_mask(x.shape, p, x.dtype), x.data))(x)


def _feature_dropout(x: Tensor, p: float, training: bool, op: str, spatial: int) -> Tensor:
    _check_p(p, op)
    if not training or p == 0:
        return x
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input, got shape {x.shape}")
    batched = x.ndim == spatial + 2
    shape = x.shape[: 2 if batched else 1] + (1,) * spatial
    return _MaskMul(backend.to_device_of(_keep_mask(shape, p, x.dtype), x.data))(x)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of a (N, C, L) input."""
    x = as_tensor(input, "dropout1d")
    fn = lambda z: _feature_dropout(z, p, training, "dropout1d", 1)  # noqa: E731
    return _in_place(x, "dropout1d_", fn) if inplace else fn(x)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of a (N, C, H, W) input."""
    x = as_tensor(input, "dropout2d")
    fn = lambda z: _feature_dropout(z, p, training, "dropout2d", 2)  # noqa: E731
    return _in_place(x, "dropout2d_", fn) if inplace else fn(x)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Zero whole channels of a (N, C, D, H, W) (or unbatched (C, D, H, W)) input."""
    x = as_tensor(input, "dropout3d")
    fn = lambda z: _feature_dropout(z, p, training, "dropout3d", 3)  # noqa: E731
    return _in_place(x, "dropout3d_", fn) if inplace else fn(x)


#: -SELU's negative saturation value (scale * alpha), the value alpha dropout gives dropped elements.
_ALPHA = 1.7580993408473766


def _alpha_dropout(x: Tensor, p: float, training: bool, op: str, feature: bool) -> Tensor:
    """torch's rule: y = x·keep·a + (keep - 1)·alpha·a + alpha·a·p with a = 1/sqrt((alpha²p + 1)(1 - p))."""
    _check_p(p, op)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    if feature and x.ndim < 2:
        raise RuntimeError(
            f"{op}: Feature dropout requires at least 2 dimensions in the input, got {x.shape}"
        )
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
    keep = (_random.generator().random(shape, dtype=np.float32) >= p).astype(x.dtype)
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1.0) * (1.0 - p))
    shift = (keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p
    y = _MaskMul(backend.to_device_of(keep * x.dtype.type(a), x.data))(x)
    return y + _new(backend.to_device_of(shift.astype(x.dtype), x.data))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    """Alpha dropout (``training`` defaults to False, as in torch): keeps zero mean and unit variance."""
    x = as_tensor(input, "alpha_dropout")
    fn = lambda z: _alpha_dropout(z, p, training, "alpha_dropout", False)  # noqa: E731
    return _in_place(x, "alpha_dropout_", fn) if inplace else fn(x)


def feature_alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Alpha dropout of whole channels (dim 1) of a (N, C, *) input."""
    x = as_tensor(input, "feature_alpha_dropout")
    fn = lambda z: _alpha_dropout(z, p, training, "feature_alpha_dropout", True)  # noqa: E731
    return _in_place(x, "feature_alpha_dropout_", fn) if inplace else fn(x)
