"""LU with partial pivoting: ``lu_factor``, ``lu_factor_ex``, ``lu``, ``lu_solve``, ``lu_unpack``.

The row permutation P is a constant (as in torch). One Function, the LU of a square matrix without pivoting,
carries the derivative (gA = L⁻ᵀ (tril₋₁(Lᵀ gL) + triu(gU Uᵀ)) U⁻ᵀ, torch's formula); a rectangular A is that
of its leading square block plus a triangular solve, so every gradient is a composition.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.linalg._core import check_float, mT, no_out, tensor, tri_mask
from chainrule.linalg.solvers import _solve, solve_triangular
from chainrule.ops.linalg import matmul
from chainrule.ops.shape import concat
from chainrule.tensor import Tensor, _new


def _pivoted_lu(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(packed LU, 1-based pivots as LAPACK's getrf: row i was swapped with row pivots[i] - 1)."""
    a = np.array(A, copy=True)
    m, n = a.shape[-2:]
    k = min(m, n)
    piv = np.zeros((*a.shape[:-2], k), dtype=np.int32)
    rows = np.indices(a.shape[:-2]) if a.ndim > 2 else ()
    for j in range(k):
        p = j + np.argmax(np.abs(a[..., j:, j]), axis=-1)  # the first largest, as idamax
        piv[..., j] = p + 1
        idx = (*rows, p)
        top, pivot_row = a[..., j, :].copy(), a[idx].copy()
        a[..., j, :] = pivot_row
        a[idx] = top
        d = a[..., j, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(d[..., None] != 0, a[..., j + 1 :, j] / d[..., None], 0.0)
        a[..., j + 1 :, j] = factor
        a[..., j + 1 :, j + 1 :] -= factor[..., :, None] * a[..., j, None, j + 1 :]
    return a, piv


def _permutation(piv: np.ndarray, m: int, dtype: Any) -> np.ndarray:
    """P with A = P L U, from getrf's pivots."""
    perm = np.broadcast_to(np.arange(m), (*piv.shape[:-1], m)).copy()
    for j in range(piv.shape[-1]):
        p = piv[..., j] - 1
        a = np.take_along_axis(perm, np.full((*piv.shape[:-1], 1), j), -1)
        b = np.take_along_axis(perm, p[..., None], -1)
        np.put_along_axis(perm, np.full((*piv.shape[:-1], 1), j), b, -1)
        np.put_along_axis(perm, p[..., None], a, -1)
    # row i of P^T A is row perm[i] of A, so P[perm[i], i] = 1
    P = np.zeros((*piv.shape[:-1], m, m), dtype=dtype)
    np.put_along_axis(P, perm[..., :, None], 1.0, -1)
    return mT(P)


class _SquareLU(Function):
    """The packed LU of a square matrix that needs no pivoting (rows already permuted)."""

    uses_outputs = True

    def forward(self, A):
        a = np.array(A, copy=True)
        n = a.shape[-1]
        for j in range(n):
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = a[..., j + 1 :, j] / a[..., j, None, j]
            a[..., j + 1 :, j] = factor
            a[..., j + 1 :, j + 1 :] -= factor[..., :, None] * a[..., j, None, j + 1 :]
        return a

    def backward(self, g):
        LU = self.outputs[0]
        n = LU.shape[-1]
        lower, upper = tri_mask(n, n, False, LU.dtype, diagonal=False), tri_mask(n, n, True, LU.dtype)
        L = LU * lower + _new(np.eye(n, dtype=LU.dtype))
        U = LU * upper
        phi = (mT(L) @ (g * lower)) * lower + ((g * upper) @ mT(U)) * upper
        return mT(_solve(U, mT(_solve(mT(L), phi))))  # L⁻ᵀ phi U⁻ᵀ


def _factors(A: Tensor) -> tuple[np.ndarray, np.ndarray, Tensor, Tensor]:
    """(pivots, P, L, U) with L (m, k) unit lower and U (k, n) differentiable in A."""
    m, n = A.shape[-2:]
    k = min(m, n)
    _, piv = _pivoted_lu(A.data)
    P = _permutation(piv, m, A.dtype)
    B = matmul(_new(mT(P)), A)  # Pᵀ A: needs no pivoting
    LU = _SquareLU()(B[..., :k, :k])
    lower = tri_mask(k, k, False, A.dtype, diagonal=False)
    L = LU * lower + _new(np.eye(k, dtype=A.dtype))
    U = LU * tri_mask(k, k, True, A.dtype)
    if m > n:  # the rows below: B₂ = L₂ U
        L = concat([L, mT(solve_triangular(mT(U), mT(B[..., k:, :]), upper=False))], -2)
    elif n > m:  # the columns right: B₂ = L U₂
        U = concat([U, solve_triangular(L, B[..., :, k:], upper=False, unitriangular=True)], -1)
    return piv, P, L, U


class LUFactorResult(NamedTuple):
    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


class LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


def _pack(L: Tensor, U: Tensor) -> Tensor:
    """L's strictly lower part and U in one (m, n) matrix, as LAPACK stores them."""
    m, k = L.shape[-2:]
    n = U.shape[-1]
    low = L * tri_mask(m, k, False, L.dtype, diagonal=False)
    if n > k:
        low = concat([low, _new(np.zeros((*low.shape[:-1], n - k), dtype=L.dtype))], -1)
    up = U
    if m > k:
        up = concat([U, _new(np.zeros((*U.shape[:-2], m - k, n), dtype=U.dtype))], -2)
    return low + up


def _check(op: str, A: Tensor, pivot: bool) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{op}: A must have at least 2 dimensions, got shape {A.shape}")
    check_float(op, A)
    if not pivot:
        raise NotImplementedError(f"{op}: LU without pivoting (pivot=False) is not implemented on the CPU")


def lu_factor(A: Any, *, pivot: bool = True, **kwargs: Any) -> LUFactorResult:
    """``torch.linalg.lu_factor``: (LU, pivots) as LAPACK's getrf: L below the diagonal (unit diagonal
    implied), U on and above it; pivots 1-based int32."""
    no_out("linalg.lu_factor", kwargs)
    A = tensor(A)
    _check("linalg.lu_factor", A, pivot)
    piv, _, L, U = _factors(A)
    return LUFactorResult(_pack(L, U), _new(piv))


def lu_factor_ex(
    A: Any, *, pivot: bool = True, check_errors: bool = False, **kwargs: Any
) -> LUFactorExResult:
    """``torch.linalg.lu_factor_ex``: (LU, pivots, info); info 0 (int32), as for a non-singular A."""
    no_out("linalg.lu_factor_ex", kwargs)
    A = tensor(A)
    _check("linalg.lu_factor_ex", A, pivot)
    LU, piv = lu_factor(A)
    return LUFactorExResult(LU, piv, _new(np.zeros(A.shape[:-2], dtype=np.int32)))


def lu(A: Any, *, pivot: bool = True, **kwargs: Any) -> LUResult:
    """``torch.linalg.lu``: (P, L, U) with ``A = P L U``, L unit lower (m, k), U upper (k, n)."""
    no_out("linalg.lu", kwargs)
    A = tensor(A)
    _check("linalg.lu", A, pivot)
    _, P, L, U = _factors(A)
    return LUResult(_new(P), L, U)


def lu_unpack(LU_data: Any, LU_pivots: Any, unpack_data: bool = True, unpack_pivots: bool = True) -> LUResult:
    """``torch.lu_unpack``: (P, L, U) from ``lu_factor``'s output (empty where not unpacked)."""
    LU, piv = tensor(LU_data), tensor(LU_pivots)
    m, n = LU.shape[-2:]
    k = min(m, n)
    empty = _new(np.zeros((0,), dtype=LU.dtype))
    P = _new(_permutation(piv.data.astype(np.int64), m, LU.dtype)) if unpack_pivots else empty
    if not unpack_data:
        return LUResult(P, empty, empty)
    L = LU[..., :, :k] * tri_mask(m, k, False, LU.dtype, diagonal=False) + _new(np.eye(m, k, dtype=LU.dtype))
    U = LU[..., :k, :] * tri_mask(k, n, True, LU.dtype)
    return LUResult(P, L, U)


def lu_solve(
    LU: Any, pivots: Any, B: Any, *, left: bool = True, adjoint: bool = False, **kwargs: Any
) -> Tensor:
    """``torch.linalg.lu_solve``: X with ``A X = B`` for A given by ``lu_factor`` (``Aᵀ X = B`` when
    ``adjoint``, ``X A = B`` when not ``left``)."""
    no_out("linalg.lu_solve", kwargs)
    LU, B = tensor(LU), tensor(B)
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"linalg.lu_solve: LU must be batches of square matrices, got {LU.shape}")
    P, L, U = lu_unpack(LU, pivots)
    P = _new(P.data)
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        return mT(lu_solve(LU, pivots, mT(B), adjoint=not adjoint))
    if adjoint:  # Aᵀ = Uᵀ Lᵀ Pᵀ: X = P L⁻ᵀ U⁻ᵀ B
        Y = solve_triangular(mT(U), B, upper=False)
        return matmul(P, solve_triangular(mT(L), Y, upper=True, unitriangular=True))
    Y = solve_triangular(L, matmul(mT(P), B), upper=False, unitriangular=True)
    return solve_triangular(U, Y, upper=True)
