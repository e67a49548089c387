"""Decompositions: ``cholesky``, ``qr``, ``eigh``/``eigvalsh``, ``svd``/``svdvals``, with torch's gradients.

The rules are written with differentiable ops (``matmul``, the triangular and general solves), so they can be
differentiated again. A several-output op keeps its outputs as arrays for a first-order pass and, under
``create_graph``, recomputes them as recorded ops from its input, so a second-order pass sees them as
functions of the input even when the caller dropped some.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.linalg._core import LinAlgError, check_float, check_square, diag_embed, mT, no_out, recording
from chainrule.linalg._core import tensor as _tensor
from chainrule.linalg.solvers import _solve
from chainrule.ops.shape import concat
from chainrule.tensor import Tensor, _new


def _halved_lower(n: int, dtype: Any) -> Tensor:
    """The mask of Φ: the lower triangle, with the diagonal halved."""
    return _new((np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(dtype))


def _not_pd(op: str, A: np.ndarray) -> LinAlgError:
    """torch's message, naming the order of the first leading minor that is not positive-definite."""
    order = A.shape[-1]
    for batch in np.ndindex(*A.shape[:-2]):
        for k in range(1, A.shape[-1] + 1):
            try:
                np.linalg.cholesky(A[batch][:k, :k])
            except np.linalg.LinAlgError:
                order = min(order, k)
                break
    return LinAlgError(
        f"{op}: The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {order} is not positive-definite)."
    )


class Cholesky(Function):
    """A = L Lᵀ (lower L); gA = sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹), Φ the lower triangle with a halved diagonal."""

    uses_outputs = True

    def __init__(self, op: str):
        self.op = op

    def forward(self, A):
        try:
            return np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            raise _not_pd(self.op, A) from None

    def backward(self, gL):
        L = self.outputs[0]
        n = L.shape[-1]
        P = (mT(L) @ gL) * _halved_lower(n, L.dtype)
        Y = _solve(mT(L), P)  # L⁻ᵀ P
        gA = mT(_solve(mT(L), mT(Y)))  # L⁻ᵀ P L⁻¹
        return (gA + mT(gA)) * 0.5


def _cholesky(op: str, A: Any, upper: bool) -> Tensor:
    A = _tensor(A)
    check_square(op, A)
    if upper:  # torch reads the upper triangle then: that of Aᵀ's lower one
        return mT(Cholesky(op)(mT(A)))
    return Cholesky(op)(A)


def cholesky(A: Any, *, upper: bool = False, **kwargs: Any) -> Tensor:
    """``torch.linalg.cholesky``: L with ``A = L Lᵀ`` (``Uᵀ U`` when ``upper``), read from A's lower (upper)
    triangle only. A LinAlgError naming the leading minor when A is not positive-definite."""
    no_out("linalg.cholesky", kwargs)
    return _cholesky("linalg.cholesky", A, upper)


def cholesky_ex(A: Any, *, upper: bool = False, check_errors: bool = False, **kwargs: Any) -> tuple:
    """``torch.linalg.cholesky_ex``: (L, info), info 0 (int32, batch shape) for a positive-definite A."""
    no_out("linalg.cholesky_ex", kwargs)
    L = _cholesky("linalg.cholesky_ex", A, upper)
    return L, _new(np.zeros(L.shape[:-2], dtype=np.int32))


def cholesky_torch(A: Any, upper: bool = False, **kwargs: Any) -> Tensor:
    """``torch.cholesky`` (deprecated in torch for ``linalg.cholesky``): ``upper`` is positional."""
    no_out("cholesky", kwargs)
    return _cholesky("cholesky", A, upper)


# ---------------------------------------------------------------------------- QR
class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


def _copyltu(M: Tensor) -> Tensor:
    """The symmetric matrix with M's lower triangle."""
    n = M.shape[-1]
    low = M * _new(np.tril(np.ones((n, n)), -1).astype(M.dtype))
    return low + mT(low) + diag_embed((M * _new(np.eye(n, dtype=M.dtype))).sum(-1))


def _qr_backward_tall(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    """m >= n: gA = (gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ - gQᵀ Q."""
    M = R @ mT(gR) - mT(gQ) @ Q
    return mT(_solve(R, mT(gQ + Q @ _copyltu(M))))


class QR(Function):
    def __init__(self, mode: str):
        self.mode = mode

    def forward(self, A):
        Q, R = np.linalg.qr(A, mode="complete" if self.mode == "complete" else "reduced")
        self._saved = Q, R
        if self.mode == "r":
            return np.zeros((0,), dtype=A.dtype), R
        return Q, R

    def backward(self, gQ, gR):
        (A,) = self.inputs
        m, n = A.shape[-2:]
        if self.mode == "r":
            raise RuntimeError(
                "linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Use linalg.qr(A, mode='reduced') to differentiate through it."
            )
        if self.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: QR is not differentiable when mode='complete' and nrows > ncols.")
        Q, R = qr(A, self.mode) if recording() else map(_new, self._saved)
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR)
        # A = [X | Y] = Q [U | V] with X = Q U square and Y = Q V
        Y, U, gU, gV = A[..., m:], R[..., :m], gR[..., :m], gR[..., m:]
        gX = _qr_backward_tall(Q, U, gQ + Y @ mT(gV), gU)
        return concat([gX, Q @ gV], -1)


def qr(A: Any, mode: str = "reduced", **kwargs: Any) -> QRResult:
    """``torch.linalg.qr``: (Q, R) with ``A = Q R``; ``mode`` 'reduced', 'complete' or 'r' (Q empty)."""
    no_out("linalg.qr", kwargs)
    A = _tensor(A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' : expected 'reduced', 'complete' or 'r'")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.qr: The input tensor A must have at least 2 dimensions, got {A.shape}")
    check_float("linalg.qr", A)
    return QRResult(*QR(mode)(A))


def qr_torch(A: Any, some: bool = True, **kwargs: Any) -> QRResult:
    """``torch.qr`` (deprecated in torch): ``some=False`` is mode 'complete'."""
    no_out("qr", kwargs)
    return qr(A, "reduced" if some else "complete")


# ---------------------------------------------------------------------------- eigh
class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def _eigh_arrays(A: np.ndarray, UPLO: str) -> tuple[np.ndarray, np.ndarray]:
    if A.shape[-1] == 0:
        return np.zeros(A.shape[:-1], dtype=A.dtype), np.zeros(A.shape, dtype=A.dtype)
    return np.linalg.eigh(A, UPLO=UPLO)


def _check_uplo(op: str, UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


class Eigh(Function):
    """torch's rule: gA = V (gL on the diagonal, skew(Vᵀ gV) / (λⱼ - λᵢ) off it) Vᵀ."""

    def __init__(self, UPLO: str):
        self.UPLO = UPLO

    def forward(self, A):
        L, V = _eigh_arrays(A, self.UPLO)
        self._saved = L, V
        return L, V

    def backward(self, gL, gV):
        (A,) = self.inputs
        L, V = eigh(A, self.UPLO) if recording() else map(_new, self._saved)
        VgV = mT(V) @ gV
        VgV = (VgV - mT(VgV)) * 0.5
        n = L.shape[-1]
        E = L.reshape(*L.shape[:-1], 1, n) - L.reshape(*L.shape, 1) + _new(np.eye(n, dtype=L.dtype))
        off = _new(1.0 - np.eye(n, dtype=L.dtype))
        inner = VgV / E * off + diag_embed(gL)
        return V @ inner @ mT(V)


class Eigvalsh(Function):
    """The eigenvalues only: gA = V diag(gL) Vᵀ."""

    def __init__(self, UPLO: str):
        self.UPLO = UPLO

    def forward(self, A):
        L, V = _eigh_arrays(A, self.UPLO)
        self._V = V
        return L

    def backward(self, gL):
        (A,) = self.inputs
        V = eigh(A, self.UPLO)[1] if recording() else _new(self._V)
        return (V * gL.reshape(*gL.shape[:-1], 1, gL.shape[-1])) @ mT(V)


def eigh(A: Any, UPLO: str = "L", **kwargs: Any) -> EighResult:
    """``torch.linalg.eigh``: ascending eigenvalues and orthonormal eigenvectors of a symmetric matrix, from
    its lower (``UPLO='L'``) or upper triangle. Each eigenvector's sign is LAPACK's choice (as in torch)."""
    no_out("linalg.eigh", kwargs)
    A = _tensor(A)
    check_square("linalg.eigh", A)
    _check_uplo("linalg.eigh", UPLO)
    return EighResult(*Eigh(UPLO)(A))


def eigvalsh(A: Any, UPLO: str = "L", **kwargs: Any) -> Tensor:
    """``torch.linalg.eigvalsh``: the ascending eigenvalues of a symmetric matrix."""
    no_out("linalg.eigvalsh", kwargs)
    A = _tensor(A)
    check_square("linalg.eigvalsh", A)
    _check_uplo("linalg.eigvalsh", UPLO)
    return Eigvalsh(UPLO)(A)


# ---------------------------------------------------------------------------- SVD
class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _svd_arrays(A: np.ndarray, full: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = A.shape[-2:]
    if m == 0 or n == 0:
        batch = A.shape[:-2]
        um, vn = (m, n) if full else (min(m, n), min(m, n))
        return (
            np.broadcast_to(np.eye(m, um, dtype=A.dtype), (*batch, m, um)).copy(),
            np.zeros((*batch, 0), dtype=A.dtype),
            np.broadcast_to(np.eye(vn, n, dtype=A.dtype), (*batch, vn, n)).copy(),
        )
    return np.linalg.svd(A, full_matrices=full)


def _svd_backward(U: Tensor, S: Tensor, Vh: Tensor, gU: Tensor, gS: Tensor, gVh: Tensor) -> Tensor:
    """torch's svd_backward (reduced U, Vh) for real matrices."""
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    UgU = mT(U) @ gU
    UgU = UgU - mT(UgU)
    VgV = Vh @ mT(gVh)
    VgV = VgV - mT(VgV)
    S2 = S * S
    E = S2.reshape(*S.shape[:-1], 1, k) - S2.reshape(*S.shape, 1) + _new(np.eye(k, dtype=S.dtype))
    gA = (UgU * S.reshape(*S.shape[:-1], 1, k) + S.reshape(*S.shape, 1) * VgV) / E
    gA = gA + diag_embed(gS)
    if m > n:
        gA = U @ gA
        gUSinv = gU / S.reshape(*S.shape[:-1], 1, k)
        gA = gA + gUSinv - U @ (mT(U) @ gUSinv)
        return gA @ Vh
    if m < n:
        gA = gA @ Vh
        SinvgVh = gVh / S.reshape(*S.shape, 1)
        gA = gA + SinvgVh - (SinvgVh @ mT(Vh)) @ Vh
        return U @ gA
    return U @ gA @ Vh


class SVD(Function):
    def __init__(self, full: bool):
        self.full = full

    def forward(self, A):
        out = _svd_arrays(A, self.full)
        self._saved = out
        return tuple(out)

    def backward(self, gU, gS, gVh):
        (A,) = self.inputs
        U, S, Vh = svd(A, self.full) if recording() else map(_new, self._saved)
        k = S.shape[-1]
        if self.full:  # only the first k columns of U (rows of Vh) depend on A
            U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
        return _svd_backward(U, S, Vh, gU, gS, gVh)


class SVDVals(Function):
    """The singular values only: gA = U diag(gS) Vh."""

    def forward(self, A):
        U, S, Vh = _svd_arrays(A, False)
        self._saved = U, Vh
        return S

    def backward(self, gS):
        (A,) = self.inputs
        U, _, Vh = svd(A, False) if recording() else (_new(self._saved[0]), None, _new(self._saved[1]))
        return (U * gS.reshape(*gS.shape[:-1], 1, gS.shape[-1])) @ Vh


def _check_matrix(op: str, A: Tensor) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {A.shape}")
    check_float(op, A)


def svd(A: Any, full_matrices: bool = True, *, driver: Any = None, **kwargs: Any) -> SVDResult:
    """``torch.linalg.svd``: (U, S, Vh) with ``A = U diag(S) Vh``, S descending. The signs of the singular
    vectors are LAPACK's choice; torch's gradient needs ``full_matrices=False`` unless only S is used."""
    no_out("linalg.svd", kwargs)
    A = _tensor(A)
    _check_matrix("linalg.svd", A)
    return SVDResult(*SVD(bool(full_matrices))(A))


def svdvals(A: Any, *, driver: Any = None, **kwargs: Any) -> Tensor:
    """``torch.linalg.svdvals``: the singular values, descending."""
    no_out("linalg.svdvals", kwargs)
    A = _tensor(A)
    _check_matrix("linalg.svdvals", A)
    return SVDVals()(A)


class SVDTorchResult(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


def svd_torch(A: Any, some: bool = True, compute_uv: bool = True, **kwargs: Any) -> SVDTorchResult:
    """``torch.svd``: (U, S, V) with ``A = U diag(S) Vᵀ``; ``compute_uv=False`` gives zero U and V."""
    no_out("svd", kwargs)
    A = _tensor(A)
    _check_matrix("svd", A)
    if not compute_uv:
        m, n = A.shape[-2:]
        zeros = [_new(np.zeros((*A.shape[:-2], k, k), dtype=A.dtype)) for k in (m, n)]
        return SVDTorchResult(zeros[0], svdvals(A), zeros[1])
    U, S, Vh = svd(A, full_matrices=not some)
    return SVDTorchResult(U, S, mT(Vh))
