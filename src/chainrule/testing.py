"""``chainrule.testing``: checking gradients and comparing results.

The gradient checks live in ``chainrule.autograd.gradcheck`` (re-exported here, their home before the
autograd package existed); ``assert_close`` compares values across devices and libraries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.gradcheck import (
    GradcheckError,
    _host64,
    gradcheck,
    gradgradcheck,
    numerical_diff,
    numerical_grad,
)

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradgradcheck", "numerical_diff", "numerical_grad"]


def assert_close(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, msg: str = "") -> None:
    """Assert two arrays/Tensors are close, reporting the worst element.

    Either side may be a Tensor or array on any device, a torch tensor, or a number/list.
    """
    a = _host64(actual)
    e = _host64(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{msg}shape mismatch: {a.shape} vs {e.shape}")
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
        err = np.abs(a - e)
        i = np.unravel_index(int(np.nanargmax(err)), err.shape) if err.ndim else ()
        at = tuple(int(k) for k in i)
        raise AssertionError(
            f"{msg}not close: max |diff| {err[i]:.3g} at {at}: {float(a[i])!r} vs {float(e[i])!r}"
        )
