"""Inverses and linear solves: ``inv``, ``solve``, ``det``, ``slogdet``, triangular and Cholesky solves.

Two Functions carry the derivatives: ``Inv`` (d inv(A) = -inv(A) dA inv(A)) and ``Solve`` (X = A⁻¹B, so
gB = A⁻ᵀ gX and gA = -gB Xᵀ). Their rules are written with ``matmul`` and ``solve`` themselves, so every
order of derivative follows; the other ops are compositions of these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.function import Function
from chainrule.linalg._core import LinAlgError, check_square, mT, no_out, tensor, tri_mask
from chainrule.ops.linalg import matmul
from chainrule.tensor import Tensor, _new


def _singular(op: str) -> LinAlgError:
    return LinAlgError(f"{op}: The diagonal element is zero: the input matrix is singular, it has no inverse")


class Inv(Function):
    uses_inputs = False
    uses_outputs = True
    rule_takes_arrays = True

    def forward(self, A):
        try:
            return np.linalg.inv(A)
        except np.linalg.LinAlgError:
            raise _singular("linalg.inv") from None

    def backward(self, gy):
        X = self.output_like(gy)
        return -(mT(X) @ gy @ mT(X))


class Solve(Function):
    """X = A⁻¹ B for B of shape (..., n, k), batch dims broadcast."""

    uses_outputs = True

    def forward(self, A, B):
        try:
            return np.linalg.solve(A, B)
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.solve: The solver failed because the input matrix is singular."
            ) from None

    def backward(self, gy):
        A, _ = self.inputs
        gB = _solve(mT(A), gy)
        gA = -(gB @ mT(self.outputs[0])) if self.needs_input_grad[0] else None
        return gA, gB


def _solve(A: Tensor, B: Tensor) -> Tensor:
    return Solve()(A, B)


def inv(A: Any, **kwargs: Any) -> Tensor:
    """``torch.linalg.inv``: the inverse of a (batch of) square matrices; LinAlgError if singular."""
    no_out("linalg.inv", kwargs)
    A = tensor(A)
    check_square("linalg.inv", A)
    return Inv()(A)


def inv_ex(A: Any, *, check_errors: bool = False, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """``torch.linalg.inv_ex``: (inverse, info); info is 0 for an invertible matrix (int32, batch shape)."""
    no_out("linalg.inv_ex", kwargs)
    A = tensor(A)
    check_square("linalg.inv_ex", A)
    info = _new(np.zeros(A.shape[:-2], dtype=np.int32))
    return inv(A), info


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """torch's rule: B is a (batch of) vectors if 1-D, or of A's batch shape plus n."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A: Any, B: Any, *, left: bool = True, **kwargs: Any) -> Tensor:
    """``torch.linalg.solve``: X with ``A @ X = B`` (``X @ A = B`` when ``left=False``), batches broadcast.

    >>> import chainrule as cr
    >>> cr.linalg.solve(cr.eye(2) * 2, cr.ones(2)).tolist()
    [0.5, 0.5]
    """
    no_out("linalg.solve", kwargs)
    A, B = tensor(A), tensor(B)
    check_square("linalg.solve", A)
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"linalg.solve: expected A and B to have the same dtype, got {A.dtype} and {B.dtype}"
        )
    if not left:
        return mT(solve(mT(A), mT(B)))
    vector = _is_vector_rhs(A, B)
    Bm = B.reshape(*B.shape, 1) if vector else B
    if Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: incompatible shapes of A {A.shape} and B {B.shape}")
    X = _solve(A, Bm)
    return X.reshape(X.shape[:-1]) if vector else X


def solve_ex(
    A: Any, B: Any, *, left: bool = True, check_errors: bool = False, **kwargs: Any
) -> tuple[Tensor, Tensor]:
    """``torch.linalg.solve_ex``: (solution, info), info 0 (int32, A's batch shape) when A is invertible."""
    no_out("linalg.solve_ex", kwargs)
    X = solve(A, B, left=left)
    return X, _new(np.zeros(tensor(A).shape[:-2], dtype=np.int32))


class Det(Function):
    """det(A); d det = det · tr(A⁻¹ dA), so gA = g · det · A⁻ᵀ."""

    uses_outputs = True

    def forward(self, A):
        return np.linalg.det(A)

    def backward(self, gy):
        (A,) = self.inputs
        d = self.outputs[0]
        if np.any(d.data == 0):
            raise NotImplementedError("linalg.det: the gradient at a singular matrix is not implemented")
        scale = gy * d
        return scale.reshape(*scale.shape, 1, 1) * mT(inv(A))


def det(A: Any, **kwargs: Any) -> Tensor:
    """``torch.linalg.det``: the determinant of a (batch of) square matrices."""
    no_out("linalg.det", kwargs)
    A = tensor(A)
    check_square("linalg.det", A)
    return Det()(A)


class SlogDet(Function):
    """(sign, log|det A|); the sign is piecewise constant (zero gradient), and for the log gA = g · A⁻ᵀ."""

    def forward(self, A):
        sign, logabs = np.linalg.slogdet(A)
        return np.asarray(sign, dtype=A.dtype), np.asarray(logabs, dtype=A.dtype)

    def backward(self, gsign, glog):
        (A,) = self.inputs
        return glog.reshape(*glog.shape, 1, 1) * mT(inv(A))


def slogdet(A: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """``torch.linalg.slogdet``: (sign, log|det A|)."""
    no_out("linalg.slogdet", kwargs)
    A = tensor(A)
    check_square("linalg.slogdet", A)
    return SlogDet()(A)


def logdet(A: Any) -> Tensor:
    """``torch.logdet``: log det A; nan for a negative determinant, -inf for a singular matrix."""
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    sign, logabs = slogdet(A)
    nan = _new(np.asarray(np.nan, dtype=logabs.dtype))
    return where(sign.data < 0, nan, logabs)


def _triangle(A: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of A that a triangular solve reads (a constant 1 diagonal when unitriangular)."""
    n = A.shape[-1]
    T = A * tri_mask(n, n, upper, A.dtype, diagonal=not unitriangular)
    if unitriangular:
        T = T + _new(np.eye(n, dtype=A.dtype))
    return T


def solve_triangular(
    A: Any, B: Any, *, upper: bool, left: bool = True, unitriangular: bool = False, **kwargs: Any
) -> Tensor:
    """``torch.linalg.solve_triangular``: X with ``triu(A) @ X = B`` (or ``tril``; ``X @ A = B`` when
    ``left=False``); only the named triangle of A is read, so only it gets a gradient."""
    no_out("linalg.solve_triangular", kwargs)
    A, B = tensor(A), tensor(B)
    check_square("linalg.solve_triangular", A)
    if B.ndim < 2:
        raise RuntimeError(f"linalg.solve_triangular: B must have at least 2 dimensions, got shape {B.shape}")
    T = _triangle(A, upper, unitriangular)
    if not left:
        return mT(_solve_broadcast(mT(T), mT(B)))
    return _solve_broadcast(T, B)


def _solve_broadcast(T: Tensor, B: Tensor) -> Tensor:
    if B.shape[-2] != T.shape[-1]:
        raise RuntimeError(f"solve_triangular: incompatible shapes of A {T.shape} and B {B.shape}")
    return _solve(T, B)


def triangular_solve(
    b: Any, A: Any, upper: bool = True, transpose: bool = False, unitriangular: bool = False, **kwargs: Any
) -> tuple[Tensor, Tensor]:
    """``torch.triangular_solve``: (X, A) with ``op(triangle(A)) @ X = b``, op the transpose if asked."""
    no_out("triangular_solve", kwargs)
    b, A = tensor(b), tensor(A)
    T = _triangle(A, upper, unitriangular)
    if transpose:
        T = mT(T)
    X = _solve_broadcast(T, b)
    return X, A.clone()


def _tri_array(A: np.ndarray, upper: bool) -> np.ndarray:
    return np.triu(A) if upper else np.tril(A)


class CholeskySolve(Function):
    """X = (L Lᵀ)⁻¹ B from the triangle of L (``Uᵀ U`` when upper), with torch's rule: gB = the same solve of
    g, and gL = -(gB Xᵀ + X gBᵀ) L (L times it when upper), L taken whole, as torch does."""

    uses_outputs = True

    def __init__(self, upper: bool):
        self.upper = upper

    def forward(self, B, L):
        T = _tri_array(L, self.upper)
        F = mT(T) if self.upper else T  # A = F Fᵀ
        try:
            return np.linalg.solve(mT(F), np.linalg.solve(F, B))
        except np.linalg.LinAlgError:
            raise LinAlgError("cholesky_solve: the Cholesky factor is singular") from None

    def backward(self, gy):
        _, L = self.inputs
        X = self.outputs[0]
        gB = CholeskySolve(self.upper)(gy, L)
        common = gB @ mT(X)
        common = common + mT(common)
        return gB, -(L @ common if self.upper else common @ L)


def cholesky_solve(B: Any, L: Any, upper: bool = False, **kwargs: Any) -> Tensor:
    """``torch.cholesky_solve``: X with ``L Lᵀ X = B`` (``Uᵀ U X = B`` when ``upper``)."""
    no_out("cholesky_solve", kwargs)
    B, L = tensor(B), tensor(L)
    check_square("cholesky_solve", L, "L")
    if B.ndim < 2 or B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"cholesky_solve: incompatible shapes of B {B.shape} and L {L.shape}")
    return CholeskySolve(bool(upper))(B, L)


class CholeskyInverse(Function):
    """(L Lᵀ)⁻¹ from the triangle of L, with torch's rule gL = -(P (g + gᵀ) P) L (L times it when upper)."""

    uses_outputs = True

    def __init__(self, upper: bool):
        self.upper = upper

    def forward(self, L):
        T = _tri_array(L, self.upper)
        F = mT(T) if self.upper else T
        try:
            Finv = np.linalg.inv(F)
        except np.linalg.LinAlgError:
            raise LinAlgError("cholesky_inverse: the Cholesky factor is singular") from None
        return mT(Finv) @ Finv

    def backward(self, gy):
        (L,) = self.inputs
        P = self.outputs[0]
        common = P @ (gy + mT(gy)) @ P
        return -(L @ common) if self.upper else -(common @ L)


def cholesky_inverse(L: Any, upper: bool = False, **kwargs: Any) -> Tensor:
    """``torch.cholesky_inverse``: (L Lᵀ)⁻¹ from its Cholesky factor (``(Uᵀ U)⁻¹`` when ``upper``)."""
    no_out("cholesky_inverse", kwargs)
    L = tensor(L)
    check_square("cholesky_inverse", L, "L")
    return CholeskyInverse(bool(upper))(L)


class _IdentityLike(Function):
    """A**0: identity matrices of A's shape, with a zero gradient."""

    uses_inputs = False

    def forward(self, A):
        return np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()

    def backward(self, gy):
        return gy * 0


def matrix_power(A: Any, n: int, **kwargs: Any) -> Tensor:
    """``torch.linalg.matrix_power``: A times itself ``n`` times (``inv(A)`` for negative n, I for 0)."""
    no_out("linalg.matrix_power", kwargs)
    A = tensor(A)
    check_square("linalg.matrix_power", A)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    if n == 0:
        return _IdentityLike()(A)
    base = inv(A) if n < 0 else A
    result, n = None, abs(int(n))
    while n:  # binary powering: log2(n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def tensorinv(A: Any, ind: int = 2, **kwargs: Any) -> Tensor:
    """``torch.linalg.tensorinv``: the inverse for ``tensordot(A, X, ind)``: shape ``A.shape[ind:] +
    A.shape[:ind]``."""
    no_out("linalg.tensorinv", kwargs)
    A = tensor(A)
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    n, m = int(np.prod(rows)), int(np.prod(cols))
    if n != m:
        raise RuntimeError(
            f"linalg.tensorinv: the product of the first {ind} dims must equal the rest: {A.shape}"
        )
    return inv(A.reshape(n, m)).reshape(*cols, *rows)


def tensorsolve(A: Any, B: Any, dims: Any = None, **kwargs: Any) -> Tensor:
    """``torch.linalg.tensorsolve``: X with ``tensordot(A, X, X.ndim) = B``; ``dims`` of A moved last."""
    no_out("linalg.tensorsolve", kwargs)
    A, B = tensor(A), tensor(B)
    if dims is not None:
        dims = [d % A.ndim for d in ((dims,) if isinstance(dims, int) else dims)]
        order = [d for d in range(A.ndim) if d not in dims] + list(dims)
        A = A.permute(*order)
    rest = A.shape[B.ndim :]
    n, m = int(np.prod(B.shape)), int(np.prod(rest))
    if n != m:
        raise RuntimeError(f"linalg.tensorsolve: A {A.shape} and B {B.shape} give a non-square system")
    return solve(A.reshape(n, m), B.reshape(n)).reshape(*rest)
