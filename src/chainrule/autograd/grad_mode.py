"""Per-thread autograd switches: whether ops are recorded (grad mode, inference mode).

The same per-thread ``state`` also holds the anomaly switch (``anomaly_mode``)."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.inference = False


state = _State()


def is_grad_enabled() -> bool:
    """Whether operations run now are recorded for backprop (per thread)."""
    return state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """Whether this thread is inside ``inference_mode()``."""
    return state.inference


class _GradModeContext:
    """Base for the grad-mode switches: each is a context manager that restores the previous state on exit,
    and a decorator that does the same around every call (in the calling thread, so nesting and threads
    work). ``@no_grad`` works with or without parentheses, as in torch."""

    _mode: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]) and cls._takes_bare_function:
            return cls()(args[0])  # bare ``@no_grad``
        return super().__new__(cls)

    _takes_bare_function = True

    def __enter__(self) -> None:
        self._prev = _capture()
        self._switch()

    def __exit__(self, *exc: object) -> None:
        _restore(self._prev)

    def _switch(self) -> None:
        state.grad_enabled = self._mode

    def __call__(self, fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}() decorates a function, got {type(fn).__name__}")
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, fn: F) -> F:
        """A generator's body runs a step at a time: each step runs in the mode (as torch does)."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            sent = None
            while True:
                with self._fresh():
                    try:
                        item = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
                sent = yield item

        return wrapper  # type: ignore[return-value]

    def _fresh(self) -> _GradModeContext:
        """A new context of the same kind for one call (an instance holds the state it must restore)."""
        return type(self)()


def _capture() -> tuple[bool, bool]:
    return state.grad_enabled, state.inference


def _restore(saved: tuple[bool, bool]) -> None:
    state.grad_enabled, state.inference = saved


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
    """Set grad mode now (like ``torch.set_grad_enabled``): as a context manager, it is restored on exit; as
    a decorator (``@set_grad_enabled(False)``), only calls of the function run in that mode."""

    _takes_bare_function = False

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _capture()
        state.grad_enabled = self._mode  # takes effect now, as a plain call `set_grad_enabled(False)` must

    def __enter__(self) -> None:
        pass  # already switched by __init__; _prev was taken there

    def __call__(self, fn: F) -> F:
        _restore(self._prev)  # decorating a function must not change the mode of the program
        return super().__call__(fn)

    def _fresh(self) -> _GradModeContext:
        return set_grad_enabled(self._mode)


class inference_mode(_GradModeContext):
    """``torch.inference_mode``: no graph is recorded, so results never require grad (context manager and
    decorator). Unlike torch, the tensors made here are ordinary tensors, usable in autograd later."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def _switch(self) -> None:
        state.inference = self._mode
        if self._mode:
            state.grad_enabled = False

    def _fresh(self) -> _GradModeContext:
        return inference_mode(self._mode)
