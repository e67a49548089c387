"""The torch top-level spellings of linear algebra ops (``torch.det``, ``torch.inverse``, ``torch.svd``...),
also Tensor methods; each calls its ``chainrule.linalg`` counterpart."""

from __future__ import annotations

from typing import Any

from chainrule.linalg.decompositions import cholesky_torch as cholesky
from chainrule.linalg.decompositions import qr_torch as qr
from chainrule.linalg.decompositions import svd_torch as svd
from chainrule.linalg.norms import pinverse
from chainrule.linalg.products import matrix_exp
from chainrule.linalg.solve import (
    cholesky_inverse,
    cholesky_solve,
    det,
    logdet,
    matrix_power,
    slogdet,
    triangular_solve,
)
from chainrule.linalg.solve import inv as _inv
from chainrule.tensor import Tensor


def inverse(A: Any, **kwargs: Any) -> Tensor:
    """``torch.inverse``: ``linalg.inv``."""
    return _inv(A, **kwargs)


__all__ = [
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "det",
    "inverse",
    "logdet",
    "matrix_exp",
    "matrix_power",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "triangular_solve",
]
