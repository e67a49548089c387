"""``chainrule.linalg``: torch.linalg's names on NumPy, each differentiable (real floating dtypes).

>>> import chainrule as cr
>>> A = cr.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> cr.linalg.det(A).backward()
>>> A.grad.tolist()
[[3.0, -1.0], [-1.0, 2.0]]
"""

from chainrule.linalg._core import LinAlgError
from chainrule.linalg.solve import (
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
    "cross",
    "det",
    "inv",
    "inv_ex",
    "matrix_power",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "tensorinv",
    "tensorsolve",
]
