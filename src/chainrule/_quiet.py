"""Compute inf and nan silently, as torch does: NumPy's floating-point warnings switched off for a block.

``np.errstate(all="ignore")`` does this, but building its context manager costs more than an op on a tiny
tensor (docs/performance.md). NumPy 2 keeps the error state in a context variable, so this module sets that
variable to the "ignore" state directly; where that private variable is missing (another NumPy),
``np.errstate`` is used instead.

>>> import numpy as np
>>> token = quiet_on()
>>> np.array([1.0, 0.0]) / 0
array([inf, nan])
>>> quiet_off(token)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as _state

    with np.errstate(all="ignore"):
        _IGNORE = _state.get()
except (ImportError, AttributeError):  # pragma: no cover - NumPy without the context variable
    _state = None


if _state is not None:
    #: Switch warnings off until ``quiet_off(token)``: for hot paths, in a try/finally (no context manager
    #: object to build).
    quiet_on = functools.partial(_state.set, _IGNORE)
    quiet_off = _state.reset
else:  # pragma: no cover - NumPy without the context variable

    def quiet_on() -> Any:
        errstate = np.errstate(all="ignore")
        errstate.__enter__()
        return errstate

    def quiet_off(token: Any) -> None:
        token.__exit__(None, None, None)


def silently(method: Any) -> Any:
    """Decorate a Function's ``forward`` so NumPy's float operations inside warn about nothing: for ops
    whose results are inf or nan at some inputs (log, sqrt, /...).
    Backward formulas need no decoration: the engine runs the whole backward pass quietly."""

    @functools.wraps(method)
    def quietly(*args: Any) -> Any:
        token = quiet_on()
        try:
            return method(*args)
        finally:
            quiet_off(token)

    return quietly
