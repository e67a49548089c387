"""The torch top-level spellings of linear algebra ops (``torch.det``, ``torch.inverse``, ``torch.svd``...),
also Tensor methods; each calls its ``chainrule.linalg`` counterpart."""

from __future__ import annotations

from typing import Any

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
    "cholesky_inverse",
    "cholesky_solve",
    "det",
    "inverse",
    "logdet",
    "matrix_power",
    "slogdet",
    "triangular_solve",
]
