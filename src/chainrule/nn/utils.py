"""Gradient clipping and flat parameter vectors (``torch.nn.utils``).

>>> import chainrule as cr
>>> net = cr.nn.Linear(3, 1)
>>> net(cr.ones(4, 3)).sum().backward()
>>> total = cr.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.1)
>>> float(cr.nn.utils.parameters_to_vector([p.grad for p in net.parameters()]).norm()) <= 0.1 + 1e-6
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.grad_mode import no_grad
from chainrule.tensor import Tensor, _new, bump_version

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together (as if concatenated).

    The norm is a 0-d tensor on the device of the first tensor (in their common dtype), computed there
    without a copy to the host (except for ``error_if_nonfinite``, which must look at it).
    """
    arrays = [t.data for t in _as_list(tensors) if t is not None]
    if not arrays:
        return _new(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    dtype = np.result_type(*[a.dtype for a in arrays])
    first = arrays[0]
    parts = [backend.to_device_of(_partial_norm(a, norm_type), first) for a in arrays]
    xp = backend.get_array_module(first)
    if norm_type == math.inf:
        total = xp.max(xp.stack(parts))
    else:
        total = xp.sum(xp.stack(parts))
        if norm_type != 0:
            total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return _new(backend.ensure_array(total).astype(dtype))


def _partial_norm(a: Any, norm_type: float) -> Any:
    """One array's share of the total norm, a 0-d float64 array on ``a``'s device: max |a| for inf, the
    count of non-zeros for 0, else sum |a|^p."""
    xp = backend.get_array_module(a)
    if norm_type == math.inf:
        return xp.max(xp.abs(a)).astype(np.float64) if a.size else xp.zeros((), dtype=np.float64)
    if norm_type == 0:
        return (a != 0).sum().astype(np.float64)
    return xp.sum(xp.abs(a.astype(np.float64)) ** norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients in place so their joint norm is at most ``max_norm``; returns the norm before.

    The scale is max_norm / (total_norm + 1e-6), applied only when it is below 1 (as torch). On CUDA the
    norm and the scale stay on the device (no synchronisation with the host).
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    if not params:
        return total
    xp = backend.get_array_module(total.data)
    coef = xp.minimum(float(max_norm) / (total.data.astype(np.float64) + 1e-6), 1.0)
    if xp is np and coef >= 1.0:  # nothing to scale (on a device, multiplying by 1 is cheaper than asking)
        return total
    with no_grad():
        for p in params:
            g = p.grad
            g.data = g.data * backend.to_device_of(coef, g.data).astype(g.dtype)
            bump_version(g)
    return total


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
                bump_version(p.grad)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from chainrule.ops import cat  # noqa: PLC0415

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, no graph), onto each parameter's
    device."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected vec to be a 1-D Tensor, got {type(vec).__name__}")
    offset = 0
    for p in parameters:
        n = p.data.size
        chunk = backend.to_device_of(vec.data[offset : offset + n], p.data)  # a host vector fills CUDA params
        p.data[...] = chunk.reshape(p.shape)
        bump_version(p)
        offset += n
    if offset != vec.data.size:
        raise ValueError(
            f"vector_to_parameters: the vector has {vec.data.size} elements but the parameters {offset}"
        )
