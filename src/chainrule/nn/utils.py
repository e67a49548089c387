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

import numpy as np

from chainrule._grad_mode import no_grad
from chainrule.tensor import Tensor, _new

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
    """The ``norm_type``-norm of all ``tensors`` taken together (as if concatenated)."""
    arrays = [t.data for t in _as_list(tensors) if t is not None]
    if not arrays:
        return _new(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    dtype = np.result_type(*arrays)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    elif norm_type == 0:
        total = float(sum(np.count_nonzero(a) for a in arrays))
    else:
        total = float(sum(np.sum(np.abs(a.astype(np.float64)) ** norm_type) for a in arrays)) ** (
            1.0 / norm_type
        )
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return _new(np.asarray(total, dtype=dtype))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients in place so their joint norm is at most ``max_norm``; returns the norm before.

    The scale is max_norm / (total_norm + 1e-6), applied only when it is below 1 (as torch).
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    coef = float(max_norm) / (float(total.data) + 1e-6)
    if coef < 1.0:
        with no_grad():
            for p in params:
                g = p.grad
                g.data = (g.data * g.data.dtype.type(coef)).astype(g.dtype, copy=False)
                g._vbox[0] += 1
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
                p.grad._vbox[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from chainrule.ops import cat  # noqa: PLC0415

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, no graph)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"expected vec to be a 1-D Tensor, got {type(vec).__name__}")
    offset = 0
    for p in parameters:
        n = p.data.size
        p.data[...] = vec.data[offset : offset + n].reshape(p.shape)
        p._vbox[0] += 1
        offset += n
    if offset != vec.data.size:
        raise ValueError(
            f"vector_to_parameters: the vector has {vec.data.size} elements but the parameters {offset}"
        )
