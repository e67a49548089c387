"""The torch top-level spellings of linear algebra ops (``torch.det``, ``torch.inverse``, ``torch.svd``...),
also Tensor methods; each calls its ``chainrule.linalg`` counterpart."""

from __future__ import annotations

from typing import Any

from chainrule.linalg.decompositions import cholesky_torch as cholesky
from chainrule.linalg.decompositions import qr_torch as qr
from chainrule.linalg.decompositions import svd_torch as svd
from chainrule.linalg.norms import pinverse
from chainrule.linalg.pivoted_lu import lu_factor_ex, lu_unpack
from chainrule.linalg.pivoted_lu import lu_solve as _lu_solve
from chainrule.linalg.products import matrix_exp
from chainrule.linalg.solvers import (
    cholesky_inverse,
    cholesky_solve,
    det,
    logdet,
    matrix_power,
    slogdet,
    triangular_solve,
)
from chainrule.linalg.solvers import inv as _inv
from chainrule.tensor import Tensor


def inverse(A: Any, **kwargs: Any) -> Tensor:
    """``torch.inverse``: ``linalg.inv``."""
    return _inv(A, **kwargs)


def lu(A: Any, pivot: bool = True, get_infos: bool = False, **kwargs: Any) -> tuple[Tensor, ...]:
    """``torch.lu``: (LU, pivots), and the int32 infos when ``get_infos``: ``linalg.lu_factor_ex``."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot, **kwargs)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_solve(b: Any, LU_data: Any, LU_pivots: Any, **kwargs: Any) -> Tensor:  # noqa: N803
    """``torch.lu_solve``: ``linalg.lu_solve(LU_data, LU_pivots, b)``."""
    return _lu_solve(LU_data, LU_pivots, b, **kwargs)


__all__ = [
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "det",
    "inverse",
    "logdet",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matrix_exp",
    "matrix_power",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "triangular_solve",
]
