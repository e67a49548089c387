"""Diagonal and triangle ops: tril, triu, diagonal, diag_embed, diag, diagflat, trace, diagonal_scatter.

``diagonal`` returns a copy (torch returns a view): writing into it in place does not change its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.function import Function
from chainrule.ops.elementwise import where
from chainrule.ops.shape import ShapeError, _axis, flatten
from chainrule.tensor import Tensor


def _diag_index(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(n)
    return i + max(-offset, 0), i + max(offset, 0)


def _write_diagonal(out: Any, values: Any, offset: int, d1: int, d2: int) -> None:
    """``out``'s diagonal (``offset``, dims ``d1``/``d2``) set to ``values``, whose last dim runs along it."""
    xp = backend.get_array_module(out)
    moved = xp.moveaxis(out, (d1, d2), (-2, -1))  # a writable view of ``out``
    rows, cols = _diag_index(values.shape[-1], offset)
    moved[..., rows, cols] = values


class Triangle(Function):
    """``tril``/``triu``: the values on one side of a diagonal kept, the others zeroed."""

    uses_inputs = False

    def __init__(self, upper: bool, k: int):
        self.upper, self.k = upper, k

    def forward(self, x):
        xp = backend.get_array_module(x)
        return (xp.triu if self.upper else xp.tril)(x, self.k)

    def backward(self, gy):
        return Triangle(self.upper, self.k)(gy)


class Diagonal(Function):
    uses_inputs = False

    def __init__(self, offset: int, d1: int, d2: int):
        self.offset, self.d1, self.d2 = offset, d1, d2

    def forward(self, x):
        self.in_shape = x.shape
        return x.diagonal(self.offset, self.d1, self.d2).copy()

    def backward(self, gy):
        return DiagEmbed(self.in_shape, self.offset, self.d1, self.d2)(gy)


class DiagEmbed(Function):
    """Zeros of ``shape`` with ``x`` written on one diagonal (the adjoint of :class:`Diagonal`)."""

    uses_inputs = False

    def __init__(self, shape: tuple[int, ...], offset: int, d1: int, d2: int):
        self.shape, self.offset, self.d1, self.d2 = shape, offset, d1, d2

    def forward(self, x):
        out = backend.zeros(self.shape, x.dtype, x)
        _write_diagonal(out, x, self.offset, self.d1, self.d2)
        return out

    def backward(self, gy):
        return Diagonal(self.offset, self.d1, self.d2)(gy)


def _triangle(x: Tensor, diagonal: int, upper: bool) -> Tensor:
    name = "triu" if upper else "tril"
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    return Triangle(upper, int(diagonal))(x)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """``torch.tril``: the lower triangle (on and below ``diagonal``) of the last two dims, zeros above."""
    return _triangle(input, diagonal, upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """``torch.triu``: the upper triangle (on and above ``diagonal``) of the last two dims, zeros below."""
    return _triangle(input, diagonal, upper=True)


def tril_(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """In-place :func:`tril` (bumps the version counter; recorded like the other in-place ops)."""
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415 (inplace imports the ops package)

    return inplace_op(input, "tril_", lambda t: tril(t, diagonal))


def triu_(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """In-place :func:`triu`."""
    from chainrule.ops.inplace import inplace_op  # noqa: PLC0415 (inplace imports the ops package)

    return inplace_op(input, "triu_", lambda t: triu(t, diagonal))


def _dims(ndim: int, dim1: int, dim2: int, op: str) -> tuple[int, int]:
    d1, d2 = _axis(dim1, ndim, op), _axis(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """``torch.diagonal``: the diagonal ``offset`` of dims ``dim1``/``dim2``, as the last dim (a copy)."""
    d1, d2 = _dims(input.ndim, dim1, dim2, "diagonal")
    return Diagonal(int(offset), d1, d2)(input)


def _embed_shape(x: Tensor, offset: int, dim1: int, dim2: int) -> tuple[tuple[int, ...], int, int]:
    d1, d2 = _dims(x.ndim + 1, dim1, dim2, "diag_embed")
    n = (x.shape[-1] if x.ndim else 1) + abs(offset)
    shape = list(x.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return tuple(shape), d1, d2


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """``torch.diag_embed``: the last dim of ``input`` put on a diagonal of two new dims, zeros elsewhere."""
    if input.ndim == 0:
        raise RuntimeError("diag_embed: input must have at least 1 dimension")
    shape, d1, d2 = _embed_shape(input, int(offset), dim1, dim2)
    return DiagEmbed(shape, int(offset), d1, d2)(input)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """``torch.diag``: a 1-D tensor made a square matrix's diagonal, or a matrix's diagonal as 1-D."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return Diagonal(int(diagonal), 0, 1)(input)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """``torch.diagflat``: ``input`` flattened and put on diagonal ``offset`` of a square matrix."""
    return diag_embed(flatten(input), offset)


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.trace``: the sum of a matrix's main diagonal (integers sum to int64, as torch)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    d = Diagonal(0, 0, 1)(input)
    if d.dtype.kind in "biu":
        return d.to(np.int64).sum()
    return d.sum()


def diagonal_scatter(
    input: Tensor,  # noqa: A002
    src: Tensor,
    offset: int = 0,
    dim1: int = 0,
    dim2: int = 1,
) -> Tensor:
    """``torch.diagonal_scatter``: ``input`` with its diagonal (as :func:`diagonal` reads it) as ``src``."""
    d1, d2 = _dims(input.ndim, dim1, dim2, "diagonal_scatter")
    want = input.data.diagonal(int(offset), d1, d2).shape
    if tuple(src.shape) != want:
        raise ShapeError(f"diagonal_scatter: src has shape {tuple(src.shape)}, the diagonal has {want}")
    mask = np.zeros(input.shape, dtype=bool)
    _write_diagonal(mask, np.ones(want, dtype=bool), int(offset), d1, d2)
    embedded = DiagEmbed(input.shape, int(offset), d1, d2)(src.to(input.dtype))
    return where(mask, embedded, input)
