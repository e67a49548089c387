"""Helpers shared by the ``chainrule.linalg`` modules: argument checks, masks, torch's error class."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.grad_mode import state as _grad_state
from chainrule.tensor import Tensor, _new


class LinAlgError(RuntimeError):
    """A matrix that the decomposition cannot handle (singular, not positive-definite...), as
    ``torch.linalg.LinAlgError``, which is also a RuntimeError."""


def tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def no_out(op: str, kwargs: dict[str, Any]) -> None:
    """torch's ``out=`` (and any unknown keyword) as a clear TypeError."""
    if kwargs:
        name = next(iter(kwargs))
        what = "out= is not supported" if name == "out" else f"unexpected keyword argument {name!r}"
        raise TypeError(f"{op}: {what}")


def check_float(op: str, A: Tensor) -> None:
    if A.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point tensor, got dtype {A.dtype}")


def check_square(op: str, A: Tensor, name: str = "A") -> None:
    """``A`` is a (batch of) square matrices of a floating dtype."""
    if A.ndim < 2:
        raise RuntimeError(f"{op}: {name} must have at least 2 dimensions, got shape {A.shape}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are {A.shape[-2:]}")
    check_float(op, A)


def mT(x: Any) -> Any:  # noqa: N802
    """The matrix transpose of an array or Tensor."""
    return x.swapaxes(-1, -2)


def recording() -> bool:
    """Whether tensor ops are recorded now (a forward with grad, or a backward under create_graph)."""
    return _grad_state.grad_enabled


def const(a: np.ndarray) -> Tensor:
    return _new(a)


def tri_mask(n: int, m: int, upper: bool, dtype: Any, diagonal: bool = True) -> Tensor:
    """A constant 0/1 matrix selecting the lower (or upper) triangle, with or without the diagonal."""
    k = 0 if diagonal else 1
    mask = np.triu(np.ones((n, m)), k) if upper else np.tril(np.ones((n, m)), -k)
    return _new(mask.astype(dtype))


def eye(n: int, dtype: Any) -> Tensor:
    return _new(np.eye(n, dtype=dtype))


def diag_embed(v: Tensor) -> Tensor:
    """A batch of diagonal matrices from the last dim of ``v`` (differentiable: a product with I)."""
    n = v.shape[-1]
    return v.reshape(*v.shape, 1) * eye(n, v.dtype)


def diag(A: Tensor) -> Tensor:
    """The main diagonal of a batch of square matrices (differentiable: a masked sum)."""
    return (A * eye(A.shape[-1], A.dtype)).sum(-1)
