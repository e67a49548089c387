"""PyTorch's type promotion, where it differs from NumPy's. Only called once dtypes are known to differ.

PyTorch orders dtypes by category (bool < integer < floating < complex). The highest category among the
operands decides; within it the widest type wins, as in NumPy. So an integer tensor with a float32 tensor
gives float32 (NumPy: float64), and a bool tensor with an int32 tensor gives int32.

>>> import numpy as np
>>> common_dtype([np.dtype(np.int64), np.dtype(np.float32)])
dtype('float32')
>>> common_dtype([np.dtype(np.bool_), np.dtype(np.int32), np.dtype(np.int64)])
dtype('int64')
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: dtype.kind -> PyTorch's category (bool < integer < floating < complex).
CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def category(dtype: np.dtype) -> int:
    return CATEGORY.get(dtype.kind, 2)


def common_dtype(dtypes: Iterable[np.dtype]) -> np.dtype:
    """``torch.result_type`` of tensors that all have dimensions (or all are 0-d): the widest dtype of the
    highest category. A complex result also takes the floats' precision (complex64 with float64 gives
    complex128), as in PyTorch."""
    dtypes = list(dtypes)
    top = max(category(d) for d in dtypes)
    lowest = 2 if top == 3 else top
    return np.result_type(*[d for d in dtypes if category(d) >= lowest])
