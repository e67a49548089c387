"""Products and matrix functions: ``multi_dot``, ``vecdot``, ``diagonal``, ``vander``, ``matrix_exp``."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.linalg._core import check_square, mT, no_out, tensor
from chainrule.ops.linalg import matmul
from chainrule.ops.shape import concat, stack
from chainrule.tensor import Tensor, _new


def multi_dot(tensors: Any, **kwargs: Any) -> Tensor:
    """``torch.linalg.multi_dot``: the product of a chain of matrices (the first may be a row vector, the
    last a column vector, as 1-D tensors)."""
    no_out("linalg.multi_dot", kwargs)
    ts = [tensor(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        allowed = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if t.ndim not in allowed:
            which = "first and last tensors" if i in (0, len(ts) - 1) else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): {which} must be 1D or 2D (middle ones 2D), got shape {t.shape}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].reshape(1, -1)
    if last_vec:
        ts[-1] = ts[-1].reshape(-1, 1)
    out = ts[0]
    for t in ts[1:]:
        if out.shape[-1] != t.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors with shapes {out.shape} and {t.shape} cannot be multiplied"
            )
        out = matmul(out, t)
    if first_vec and last_vec:
        return out.reshape(())
    if first_vec:
        return out.reshape(-1)
    return out.reshape(-1) if last_vec else out


def vecdot(x: Any, y: Any, *, dim: int = -1, **kwargs: Any) -> Tensor:
    """``torch.linalg.vecdot``: the dot product of vectors along ``dim``, the inputs broadcast."""
    no_out("linalg.vecdot", kwargs)
    x, y = tensor(x), tensor(y)
    return (x * y).sum(dim)


class Diagonal(Function):
    """A diagonal of each matrix over (dim1, dim2), moved last as in torch; its gradient goes back onto it."""

    uses_inputs = False

    def __init__(self, offset: int, dim1: int, dim2: int):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, A):
        self._shape = A.shape
        return np.diagonal(A, self.offset, self.dim1, self.dim2).copy()

    def backward(self, gy):
        return DiagonalScatter(self._shape, self.offset, self.dim1, self.dim2)(gy)


class DiagonalScatter(Function):
    """Zeros of ``shape`` with ``v`` written on the diagonal that ``Diagonal`` reads (its gradient)."""

    uses_inputs = False

    def __init__(self, shape: tuple[int, ...], offset: int, dim1: int, dim2: int):
        self.shape, self.offset, self.dim1, self.dim2 = shape, offset, dim1, dim2

    def forward(self, v):
        out = np.zeros(self.shape, dtype=v.dtype)
        view = np.diagonal(out, self.offset, self.dim1, self.dim2)
        view.flags.writeable = True  # a view of ``out``, which this op owns
        view[...] = v
        return out

    def backward(self, gy):
        return Diagonal(self.offset, self.dim1, self.dim2)(gy)


def diagonal(A: Any, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.linalg.diagonal``: the ``offset`` diagonal of the matrices over ``dim1``, ``dim2`` (default the
    last two), as the last dim."""
    A = tensor(A)
    n = A.ndim
    if n < 2:
        raise RuntimeError(f"linalg.diagonal: expected a tensor with at least 2 dimensions, got {A.shape}")
    for d in (dim1, dim2):
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
    d1, d2 = dim1 % n, dim2 % n
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal(int(offset), d1, d2)(A)


def vander(x: Any, *, N: int | None = None, **kwargs: Any) -> Tensor:
    """``torch.linalg.vander``: the Vandermonde matrix of ``x`` (..., n): columns x⁰, x¹, ..., x^(N-1)."""
    no_out("linalg.vander", kwargs)
    x = tensor(x)
    if x.ndim == 0:  # torch takes a 0-d x as one element
        x = x.reshape(1)
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, got {N}")
    powers = [_new(np.ones(x.shape, dtype=x.dtype)), x]
    for _ in range(N - 2):  # x^k as repeated products: a zero x has a finite gradient for every power
        powers.append(powers[-1] * x)
    return stack(powers, -1)


def _expm(A: np.ndarray) -> np.ndarray:
    """exp(A) of one matrix: Taylor series of A / 2^s, then s squarings (||A / 2^s||₁ <= 1/2)."""
    n = A.shape[-1]
    norm = np.abs(A).sum(axis=0).max() if n else 0.0
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 and np.isfinite(norm) else 0
    X = A / (2.0**s)
    term, out = np.eye(n, dtype=A.dtype), np.eye(n, dtype=A.dtype)
    for k in range(1, 30):
        term = term @ X / k
        out = out + term
        if np.abs(term).max(initial=0.0) <= np.finfo(A.dtype).eps * np.abs(out).max(initial=0.0):
            break
    for _ in range(s):
        out = out @ out
    return out


class MatrixExp(Function):
    """exp(A); the gradient is the top-right block of exp([[Aᵀ, G], [0, Aᵀ]]), a matrix_exp itself."""

    def forward(self, A):
        out = np.empty_like(A)
        work = A.astype(np.float64) if A.dtype == np.float32 else A  # float32: squarings lose too much
        for idx in np.ndindex(*A.shape[:-2]):
            out[idx] = _expm(work[idx])
        return out

    def backward(self, gy):
        (A,) = self.inputs
        n = A.shape[-1]
        At = mT(A)
        zeros = _new(np.zeros(A.shape, dtype=A.dtype))
        block = concat([concat([At, gy], -1), concat([zeros, At], -1)], -2)
        return matrix_exp(block)[..., :n, n:]


def matrix_exp(A: Any, **kwargs: Any) -> Tensor:
    """``torch.linalg.matrix_exp``: the matrix exponential of a (batch of) square matrices."""
    no_out("linalg.matrix_exp", kwargs)
    A = tensor(A)
    check_square("linalg.matrix_exp", A)
    return MatrixExp()(A)
