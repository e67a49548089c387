"""Fused matrix products (``addmm``, ``addmv``, ``addbmm``, ``baddbmm``, ``addr``), ``mv``, ``vdot``,
``cross``.

Each is composed of ``matmul``, ``mul`` and ``add``, so its gradients (of every order) are theirs.
"""

from __future__ import annotations

from typing import Any

from chainrule.ops.linalg import matmul
from chainrule.ops.reduce import sum as _sum
from chainrule.ops.shape import broadcast_to, stack
from chainrule.tensor import Tensor


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _no_out(op: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        name = next(iter(kwargs))
        what = "out= is not supported" if name == "out" else f"unexpected keyword argument {name!r}"
        raise TypeError(f"{op}: {what}")


def _scaled_sum(op: str, x: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * x + alpha * product`` with ``x`` broadcast to the product's shape; with ``beta == 0`` the
    input is ignored (its nan and inf do not propagate), as in torch."""
    try:
        x_shaped = broadcast_to(x, product.shape)
    except (ValueError, RuntimeError):
        raise RuntimeError(
            f"{op}: the input of shape {x.shape} does not broadcast to the product's shape {product.shape}"
        ) from None
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (x_shaped if beta == 1 else x_shaped * beta)


def _check_dims(op: str, **named: tuple[Tensor, int]) -> None:
    for name, (t, ndim) in named.items():
        if t.ndim != ndim:
            raise RuntimeError(f"{op}: {name} must be a {ndim}-D tensor, got shape {t.shape}")


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices, ``input`` broadcast (``torch.addmm``)."""
    _no_out("addmm", kwargs)
    input, mat1, mat2 = _t(input), _t(mat1), _t(mat2)
    _check_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape} and {mat2.shape})"
        )
    return _scaled_sum("addmm", input, matmul(mat1, mat2), beta, alpha)


def addmv(input: Any, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    _no_out("addmv", kwargs)
    input, mat, vec = _t(input), _t(mat), _t(vec)
    _check_dims("addmv", mat=(mat, 2), vec=(vec, 1))
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, mat {mat.shape}, vec {vec.shape}")
    return _scaled_sum("addmv", input, matmul(mat, vec), beta, alpha)


def addbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])`` (``torch.addbmm``)."""
    _no_out("addbmm", kwargs)
    input, batch1, batch2 = _t(input), _t(batch1), _t(batch2)
    _check_dims("addbmm", batch1=(batch1, 3), batch2=(batch2, 3))
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"addbmm: batch1 {batch1.shape} and batch2 {batch2.shape} do not fit")
    return _scaled_sum("addbmm", input, _sum(matmul(batch1, batch2), 0), beta, alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (batch1 @ batch2)`` for batches of matrices (``torch.baddbmm``)."""
    _no_out("baddbmm", kwargs)
    input, batch1, batch2 = _t(input), _t(batch1), _t(batch2)
    _check_dims("baddbmm", batch1=(batch1, 3), batch2=(batch2, 3))
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"baddbmm: batch1 {batch1.shape} and batch2 {batch2.shape} do not fit")
    return _scaled_sum("baddbmm", input, matmul(batch1, batch2), beta, alpha)


def addr(input: Any, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``beta * input + alpha * outer(vec1, vec2)`` (``torch.addr``)."""
    _no_out("addr", kwargs)
    input, vec1, vec2 = _t(input), _t(vec1), _t(vec2)
    _check_dims("addr", vec1=(vec1, 1), vec2=(vec2, 1))
    return _scaled_sum("addr", input, vec1.reshape(-1, 1) * vec2.reshape(1, -1), beta, alpha)


def mv(input: Any, vec: Any, **kwargs: Any) -> Tensor:  # noqa: A002
    """The product of a matrix and a vector (``torch.mv``)."""
    _no_out("mv", kwargs)
    input, vec = _t(input), _t(vec)
    _check_dims("mv", input=(input, 2), vec=(vec, 1))
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, input {input.shape}, vec {vec.shape}")
    return matmul(input, vec)


def vdot(input: Any, other: Any, **kwargs: Any) -> Tensor:  # noqa: A002
    """The dot product of two 1-D tensors (``torch.vdot``; real tensors, so no conjugation)."""
    _no_out("vdot", kwargs)
    input, other = _t(input), _t(other)
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise RuntimeError(
            f"vdot: expects two 1-D tensors of the same size, got {input.shape} and {other.shape}"
        )
    return matmul(input, other)


def cross(input: Any, other: Any, dim: int | None = None, **kwargs: Any) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (``torch.cross``: by default the first dim of size 3)."""
    _no_out("cross", kwargs)
    input, other = _t(input), _t(other)
    if dim is None:
        shape = _broadcast_shape("cross", input, other)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {input.shape}")
    return linalg_cross(input, other, dim=dim)


def _broadcast_shape(op: str, a: Tensor, b: Tensor) -> tuple[int, ...]:
    import numpy as np  # noqa: PLC0415

    try:
        return tuple(np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        raise RuntimeError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast") from None


def linalg_cross(input: Any, other: Any, *, dim: int = -1, **kwargs: Any) -> Tensor:  # noqa: A002
    """``torch.linalg.cross``: the cross product along ``dim`` (default -1), the inputs broadcast."""
    _no_out("linalg.cross", kwargs)
    input, other = _t(input), _t(other)
    shape = _broadcast_shape("linalg.cross", input, other)
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"linalg.cross: dim {dim} is out of range for {len(shape)} dimensions")
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions, got {input.shape} and "
            f"{other.shape}"
        )
    d = dim % len(shape)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3, got {input.shape[d]} and "
            f"{other.shape[d]}"
        )
    a, b = broadcast_to(input, shape), broadcast_to(other, shape)

    def part(t: Tensor, i: int) -> Tensor:
        return t[(slice(None),) * d + (i,)]

    a0, a1, a2 = (part(a, i) for i in range(3))
    b0, b1, b2 = (part(b, i) for i in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=d)
