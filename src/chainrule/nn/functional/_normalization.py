"""Batch, layer and group normalisation around one fused ``Normalize`` Function.

``Normalize`` computes x̂ = (x - mean) / sqrt(var + eps) over some axes in one pass. Its backward,
r·(g - mean(g) - x̂·mean(g·x̂)), runs in NumPy on first-order passes and in tensor ops (so it can be
differentiated again) when a graph is being built (``create_graph=True``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.nn.functional._conv import ShapeError
from chainrule.nn.functional._utils import as_tensor
from chainrule.tensor import Tensor, _new, bump_version


class Normalize(Function):
    """x̂ = (x - mean) / sqrt(var + eps), mean and biased var taken over ``axes``."""

    uses_outputs = True

    def __init__(self, axes: tuple[int, ...], eps: float):
        self.axes, self.eps = axes, eps

    def forward(self, x):
        self.mean = x.mean(axis=self.axes, keepdims=True)
        xc = x - self.mean
        self.var = np.mean(xc * xc, axis=self.axes, keepdims=True)
        self.rstd = (1.0 / np.sqrt(self.var + self.eps)).astype(x.dtype, copy=False)
        return xc * self.rstd

    def backward(self, gy):
        xhat = self.outputs[0]
        axes = self.axes
        if not _grad_state.grad_enabled:
            g, xh = gy.data, xhat.data
            gx = self.rstd * (
                g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True)
            )
            return _new(gx.astype(g.dtype, copy=False))
        x = self.inputs[0]
        rstd = (x.var(dim=axes, unbiased=False, keepdim=True) + self.eps) ** -0.5
        return rstd * (gy - gy.mean(dim=axes, keepdim=True) - xhat * (gy * xhat).mean(dim=axes, keepdim=True))


def _channel_view(t: Tensor, ndim: int) -> Tensor:
    """A (C,) tensor reshaped to broadcast over (N, C, *spatial)."""
    return t.reshape(-1, *(1,) * (ndim - 2)) if ndim > 2 else t


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,  # noqa: A002
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of (N, C, *) over the batch and spatial dims.

    Training (or no running stats): batch statistics, and the running stats (if given) are updated in place
    with ``momentum`` (the running variance is the unbiased one, as torch). Eval: the running stats are used.
    """
    x = as_tensor(input, "batch_norm")
    if x.shape == (0,):  # torch accepts an empty 1-D input (with empty statistics): an empty result
        return x * 1
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (c,):
            raise ShapeError(
                f"batch_norm: {name} should have shape ({c},) for input of shape {x.shape}, got {t.shape}"
            )
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        n = x.data.size // max(c, 1)
        if n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}"
            )
        norm = Normalize((0, *range(2, x.ndim)), eps)
        y = norm(x)
        if training and running_mean is not None and running_var is not None:
            m = float(momentum)
            mean, var = norm.mean.reshape(c), norm.var.reshape(c) * (n / (n - 1))
            running_mean.data[...] = (1 - m) * running_mean.data + m * mean
            running_var.data[...] = (1 - m) * running_var.data + m * var
            bump_version(running_mean)
            bump_version(running_var)
        if weight is not None:
            y = y * _channel_view(weight, x.ndim)
        if bias is not None:
            y = y + _channel_view(bias, x.ndim)
        return y
    rstd = (1.0 / np.sqrt(running_var.data.astype(np.float64) + eps)).astype(x.dtype)
    scale: Any = _new(rstd) if weight is None else weight * _new(rstd)
    shift = -(running_mean.detach() * scale)
    if bias is not None:
        shift = shift + bias
    return x * _channel_view(scale, x.ndim) + _channel_view(shift, x.ndim)


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,  # noqa: A002
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift elementwise."""
    x = as_tensor(input, "layer_norm")
    shape = (
        (int(normalized_shape),)
        if isinstance(normalized_shape, (int, np.integer))
        else tuple(normalized_shape)
    )
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[-k:]) != shape:
        raise ShapeError(
            f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    y = Normalize(tuple(range(x.ndim - k, x.ndim)), eps)(x)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,  # noqa: A002
    eps: float = 1e-5,
) -> Tensor:
    """Normalise (N, C, *) over groups of C/num_groups channels and the spatial dims."""
    x = as_tensor(input, "group_norm")
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ShapeError(
            f"group_norm: expected input (N, C, *) with C divisible by num_groups={num_groups}, "
            f"got shape {x.shape}"
        )
    n = x.shape[0]
    per_group = math.prod(x.shape[1:]) // num_groups  # explicit: a -1 cannot be inferred for batch 0
    y = Normalize((2,), eps)(x.reshape(n, num_groups, per_group)).reshape(x.shape)
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim)
    return y


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,  # noqa: A002
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims.

    As torch: (N, C, *) is batch-normalised as (1, N·C, *) with the running stats repeated N times;
    ``use_input_stats`` uses each instance's statistics (and updates the running stats with ``momentum`` to
    the batch mean of the per-instance ones), otherwise the running stats normalise.
    """
    x = as_tensor(input, "instance_norm")
    if x.ndim < 2:
        raise ShapeError(f"instance_norm: expected an input of shape (N, C, *), got shape {x.shape}")
    n, c = x.shape[0], x.shape[1]
    if use_input_stats and math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape}")
    if running_mean is None and running_var is None:
        if not use_input_stats:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        y = Normalize(tuple(range(2, x.ndim)), eps)(x)
        if weight is not None:
            y = y * _channel_view(weight, x.ndim)
        if bias is not None:
            y = y + _channel_view(bias, x.ndim)
        return y

    def repeated(t: Tensor | None) -> Tensor | None:
        return None if t is None else ops.repeat(t, n)

    def tiled(t: Tensor | None) -> Tensor | None:  # a copy per instance, as torch's repeat
        return None if t is None else _new(backend.get_array_module(t.data).tile(t.data, n))

    rm, rv = tiled(running_mean), tiled(running_var)
    y = batch_norm(
        x.reshape(1, n * c, *x.shape[2:]),
        rm,
        rv,
        repeated(weight),
        repeated(bias),
        use_input_stats,
        momentum,
        eps,
    )
    for stat, rep in ((running_mean, rm), (running_var, rv)):
        if stat is not None and use_input_stats:
            stat.data[...] = rep.data.reshape(n, c).mean(axis=0).astype(stat.dtype, copy=False)
            bump_version(stat)
    return y.reshape(x.shape)
