"""Norms and what is measured with singular values: ``vector_norm``, ``matrix_norm``, ``norm``, ``cond``,
``matrix_rank``, ``pinv`` and ``lstsq``.

The norms are compositions of differentiable reductions (and ``svdvals`` for 'nuc', 2 and -2), with torch's
zero gradient where a norm is 0.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainrule.autograd.function import Function
from chainrule.linalg._core import check_float, check_square, mT, no_out, tensor
from chainrule.linalg.decompositions import _eigh_arrays, _svd_arrays, svdvals
from chainrule.linalg.solvers import inv
from chainrule.ops.reduce import amax, amin, normalize_axes
from chainrule.ops.reduce import sum as _sum
from chainrule.tensor import Tensor, _new

_INF = float("inf")


def _cast(op: str, x: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {x.dtype}")
    return x


def _dims(dim: Any) -> Any:
    return (dim,) if isinstance(dim, (int, np.integer)) else (tuple(dim) if dim is not None else None)


def vector_norm(
    x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any
) -> Tensor:  # noqa: A002
    """``torch.linalg.vector_norm``: (sum |x|^ord)^(1/ord) over ``dim`` (all elements when None); ord may be
    inf, -inf or 0 (the count of non-zeros)."""
    from chainrule.ops.elementwise import abs as _abs  # noqa: PLC0415
    from chainrule.ops.elementwise import where  # noqa: PLC0415

    no_out("linalg.vector_norm", kwargs)
    x = _cast("linalg.vector_norm", tensor(x), dtype)
    dims = _dims(dim)
    if dims == ():
        dims = None
    axes = normalize_axes(dims, x.ndim, "linalg.vector_norm") if x.ndim else None
    if x.ndim == 0 and dims is not None:
        normalize_axes(dims, 1, "linalg.vector_norm")  # 0 and -1 are the only dims of a 0-d tensor
    empty = x.size == 0 if axes is None else any(x.shape[a] == 0 for a in axes)
    if empty and ord < 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the operation "
            "does not have an identity"
        )
    ax = axes if axes is None else tuple(axes)
    if ord == _INF or ord == -_INF:
        if empty:
            raise RuntimeError(
                f"linalg.vector_norm: Expected a non-empty tensor for the {ord} norm over dims {dim}"
            )
        return (amax if ord > 0 else amin)(_abs(x), ax, keepdim)
    if ord == 0:
        return _sum(where(x.data == 0, 0.0 * x, 1.0), ax, keepdim)
    if ord == 1:
        return _sum(_abs(x), ax, keepdim)
    return _PNorm(float(ord), ax, keepdim)(x)


class _PNorm(Function):
    """(sum |x|^p)^(1/p) for p other than 0, 1, ±inf, with torch's rule: x |x|^(p-2) · (g / norm^(p-1)), the
    second factor 0 where the norm is 0 (the first too where x is 0, for p < 1)."""

    uses_outputs = True

    def __init__(self, p: float, axes: Any, keepdim: bool):
        self.p, self.axes, self.keepdim = p, axes, keepdim

    def forward(self, x):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if self.p == 2:
                return np.sqrt(np.sum(x * x, axis=self.axes, keepdims=self.keepdim))
            s = np.sum(np.abs(x) ** self.p, axis=self.axes, keepdims=self.keepdim)
            return (s ** (1.0 / self.p)).astype(x.dtype, copy=False)

    def backward(self, gy):
        from chainrule.ops.elementwise import where  # noqa: PLC0415

        (x,) = self.inputs
        y = self.outputs[0]
        if not self.keepdim:
            shape = [1 if self.axes is None or a in self.axes else n for a, n in enumerate(x.shape)]
            y, gy = y.reshape(*shape), gy.reshape(*shape)
        p = self.p
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scale = where(y.data == 0, 0.0, gy / y if p == 2 else gy / y ** (p - 1))
            if p == 2:
                return x * scale
            if p < 1:
                scaled = where(x.data == 0, 0.0, x.sign() * x.abs() ** (p - 1))
            else:
                scaled = x * x.abs() ** (p - 2)
            return scaled * scale


def _move_last(A: Tensor, d0: int, d1: int) -> Tensor:
    rest = [d for d in range(A.ndim) if d not in (d0, d1)]
    return A.permute(*rest, d0, d1)


def matrix_norm(
    A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None, **kwargs: Any
) -> Tensor:  # noqa: A002
    """``torch.linalg.matrix_norm``: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2 over the two dims ``dim``."""
    from chainrule.ops.elementwise import abs as _abs  # noqa: PLC0415

    no_out("linalg.matrix_norm", kwargs)
    A = _cast("linalg.matrix_norm", tensor(A), dtype)
    if A.ndim < 2:
        raise RuntimeError(
            f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got {A.shape}"
        )
    d0, d1 = _two_dims(dim, A.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(_move_last(A, d0, d1))
        if ord == "nuc" or (ord == 2 and s.shape[-1] == 0):  # torch: the largest of no values is 0
            out = _sum(s, -1)
        else:
            out = amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = _sum(_abs(A), inner, True)
        if ord > 0 and s.shape[outer] == 0:  # torch: the largest of no (non-negative) sums is 0
            out = _sum(s, outer, True)
        else:
            out = (amax if ord > 0 else amin)(s, outer, True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def _two_dims(dim: Any, ndim: int) -> tuple[int, int]:
    dims = tuple(dim) if not isinstance(dim, int) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (d if d >= 0 else d + ndim for d in dims)
    if not (0 <= d0 < ndim and 0 <= d1 < ndim):
        raise IndexError(f"linalg.matrix_norm: dims {dim} out of range for a {ndim}-D tensor")
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    return d0, d1


def norm(
    A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any
) -> Tensor:  # noqa: A002
    """``torch.linalg.norm``: a vector norm (1 dim, or a 1-D input), else a matrix norm (2 dims, or a 2-D
    input with ``ord`` given); with neither ``ord`` nor ``dim`` the 2-norm of all elements."""
    no_out("linalg.norm", kwargs)
    A = tensor(A)
    dims = _dims(dim)
    if dims is not None and len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if dims is None and ord is not None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D."
            )
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord {ord!r} is a matrix norm: it needs a 2-D input or two dims")
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def cond(A: Any, p: Any = None, **kwargs: Any) -> Tensor:
    """``torch.linalg.cond``: the condition number in the norm ``p`` (None or 2: σmax/σmin; -2: σmin/σmax;
    'fro', 'nuc', ±1, ±inf: ``norm(A) * norm(inv(A))`` for square A)."""
    no_out("linalg.cond", kwargs)
    A = tensor(A)
    check_float("linalg.cond", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.cond: The input tensor A must have at least 2 dimensions, got {A.shape}")
    if p is None or p in (2, -2):
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    check_square("linalg.cond", A)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def _cutoff(S: np.ndarray, m: int, n: int, atol: Any, rtol: Any) -> np.ndarray:
    """torch's threshold max(atol, rtol * σmax), shaped to compare with S; rtol defaults to eps * max(m, n)
    when neither is given, and to 0 when only atol is."""
    atol, rtol = _value(atol), _value(rtol)
    if rtol is None:
        rtol = np.finfo(S.dtype).eps * max(m, n) if atol is None else 0.0
    smax = S.max(axis=-1, keepdims=True) if S.shape[-1] else np.zeros((*S.shape[:-1], 1), dtype=S.dtype)
    atol = np.asarray(0.0 if atol is None else atol)
    rtol = np.asarray(rtol)
    return np.maximum(atol[..., None] if atol.ndim else atol, (rtol[..., None] if rtol.ndim else rtol) * smax)


def _value(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def matrix_rank(
    A: Any, tol: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None, **kwargs: Any
) -> Tensor:
    """``torch.linalg.matrix_rank``: the number of singular values above max(atol, rtol * σmax) (int64)."""
    no_out("linalg.matrix_rank", kwargs)
    A = tensor(A)
    check_float("linalg.matrix_rank", A)
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A.shape[-2:]
    if hermitian:
        S = np.abs(_eigh_arrays(A.data, "L")[0])
    else:
        S = _svd_arrays(A.data, False)[1]
    rank = (_cutoff(S, m, n, atol, rtol) < S).sum(-1)
    return _new(np.asarray(rank, dtype=np.int64))


class Pinv(Function):
    """The pseudo-inverse, with torch's gradient (that of the pseudo-inverse at fixed rank)."""

    uses_outputs = True

    def __init__(self, atol: Any, rtol: Any, hermitian: bool):
        self.atol, self.rtol, self.hermitian = atol, rtol, hermitian

    def forward(self, A):
        m, n = A.shape[-2:]
        if self.hermitian:
            L, V = _eigh_arrays(A, "L")
            keep = np.abs(L) > _cutoff(np.abs(L), m, n, self.atol, self.rtol)
            Linv = np.where(keep, 1.0 / np.where(keep, L, 1.0), 0.0).astype(A.dtype)
            return (V * Linv[..., None, :]) @ mT(V)
        U, S, Vh = _svd_arrays(A, False)
        keep = _cutoff(S, m, n, self.atol, self.rtol) < S
        Sinv = np.where(keep, 1.0 / np.where(keep, S, 1.0), 0.0).astype(A.dtype)
        return (mT(Vh) * Sinv[..., None, :]) @ mT(U)

    def backward(self, g):
        (A,) = self.inputs
        P = self.outputs[0]
        m, n = A.shape[-2:]
        Ph, gh = mT(P), mT(g)
        if m <= n:
            K = gh @ P
            KPh = K @ Ph
            return -mT(P @ K) + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
        K = P @ gh
        PhK = Ph @ K
        return -mT(K @ P) + (gh - A @ K) @ P @ Ph + PhK - PhK @ P @ A


def pinv(
    A: Any, rcond: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None, **kwargs: Any
) -> Tensor:
    """``torch.linalg.pinv``: the Moore-Penrose pseudo-inverse; singular values at most max(atol, rtol·σmax)
    count as zero (``rcond`` is the older name of rtol)."""
    no_out("linalg.pinv", kwargs)
    A = tensor(A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.pinv: The input tensor A must have at least 2 dimensions, got {A.shape}")
    check_float("linalg.pinv", A)
    if rcond is not None:
        rtol = rcond
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if isinstance(tol, Tensor) and tol.ndim > A.ndim - 2:
            raise ValueError(
                f"linalg.pinv: {name} of shape {tol.shape} must broadcast to A's batch shape {A.shape[:-2]} "
                "(one tolerance per matrix)"
            )
    if hermitian:
        check_square("linalg.pinv", A)
    return Pinv(atol, rtol, hermitian)(A)


def pinverse(input: Any, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """``torch.pinverse``: ``linalg.pinv`` with ``rcond`` as its relative tolerance."""
    return pinv(input, rtol=rcond)


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def lstsq(A: Any, B: Any, rcond: Any = None, *, driver: Any = None, **kwargs: Any) -> LstsqResult:
    """``torch.linalg.lstsq``: the least-squares solution ``pinv(A) @ B``, with what torch's ``driver``
    returns besides ('gelsy', the CPU default: the rank; 'gels': the residuals; 'gelsd'/'gelss': all).
    Residuals (squared, per column of B) are given for tall full-rank A, as in torch."""
    from chainrule.ops.linalg import matmul  # noqa: PLC0415

    no_out("linalg.lstsq", kwargs)
    A, B = tensor(A), tensor(B)
    check_float("linalg.lstsq", A)
    if driver not in (None, "gelsy", "gels", "gelsd", "gelss"):
        raise RuntimeError(f"linalg.lstsq: driver should be one of gels, gelsy, gelsd, gelss; got {driver!r}")
    driver = driver or "gelsy"
    if A.ndim < 2 or B.ndim < 1:
        raise RuntimeError(f"linalg.lstsq: input must have at least 2 dimensions, got {A.shape}")
    vector = B.ndim == A.ndim - 1
    Bm = B.reshape(*B.shape, 1) if vector else B
    if Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.lstsq: input.size(-2) should match other.size(-2), got {A.shape}, {B.shape}"
        )
    m, n = A.shape[-2:]
    X = matmul(pinv(A, rtol=rcond), Bm)
    rank = matrix_rank(A, rtol=rcond)
    empty = _new(np.zeros((0,), dtype=A.dtype))
    residuals = X.reshape(-1)[:0]  # empty, but differentiable like torch's
    if driver != "gelsy" and m > n and bool((rank.data == n).all()):
        residuals = ((matmul(A, X) - Bm) ** 2).sum(-2)
        residuals = residuals.reshape(residuals.shape[:-1]) if vector else residuals
    sv = _new(_svd_arrays(A.data, False)[1]) if driver in ("gelsd", "gelss") else empty
    X = X.reshape(X.shape[:-1]) if vector else X
    return LstsqResult(X, residuals, rank if driver != "gels" else _new(np.zeros((0,), np.int64)), sv)
