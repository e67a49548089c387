"""``chainrule.linalg``: torch.linalg's names on NumPy, each differentiable (real floating dtypes).

>>> import chainrule as cr
>>> A = cr.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> cr.linalg.det(A).backward()
>>> A.grad.tolist()
[[3.0, -1.0], [-1.0, 2.0]]
"""

from chainrule.linalg._core import LinAlgError
from chainrule.linalg.decompositions import cholesky, cholesky_ex, eigh, eigvalsh, qr, svd, svdvals
from chainrule.linalg.norms import cond, lstsq, matrix_norm, matrix_rank, norm, pinv, vector_norm
from chainrule.linalg.pivoted_lu import lu, lu_factor, lu_factor_ex, lu_solve
from chainrule.linalg.products import diagonal, matrix_exp, multi_dot, vander, vecdot
from chainrule.linalg.solvers import (
    det,
    inv,
    inv_ex,
    matrix_power,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    tensorinv,
    tensorsolve,
)
from chainrule.ops.products import linalg_cross as cross

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]
