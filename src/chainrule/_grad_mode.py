"""Per-thread autograd switches: grad mode and anomaly detection live in a ``threading.local``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


state = _State()


def is_grad_enabled() -> bool:
    """Whether operations run now are recorded for backprop (per thread)."""
    return state.grad_enabled


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator."""

    _mode: bool

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        state.grad_enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _enter(self._mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _enter:
    def __init__(self, mode: bool) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self.prev


class no_grad(_GradModeContext):
    """Disable graph recording inside the block (or the decorated function).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode now (like ``torch.set_grad_enabled``); as a context manager, restore it on exit."""

    def __init__(self, mode: bool) -> None:
        self._prev = state.grad_enabled
        self._mode = bool(mode)
        state.grad_enabled = self._mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev


class detect_anomaly:
    """Raise at the first forward or backward step producing NaN or Inf, naming the op and where it was made.

    >>> import chainrule as cr
    >>> with cr.detect_anomaly():
    ...     cr.tensor([-1.0], requires_grad=True).sqrt()
    Traceback (most recent call last):
    RuntimeError: Sqrt produced nan in its forward pass ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        import numpy as np  # noqa: PLC0415

        self._prev = state.anomaly
        state.anomaly = self.check_nan
        # NumPy's "invalid value" warnings would fire before the check: the RuntimeError says it all.
        self._errstate = np.errstate(all="ignore") if self.check_nan else None
        if self._errstate is not None:
            self._errstate.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._errstate is not None:
            self._errstate.__exit__(*exc)
        state.anomaly = self._prev


def is_anomaly_enabled() -> bool:
    """Whether :func:`detect_anomaly` is active (``torch.is_anomaly_enabled``)."""
    return state.anomaly
