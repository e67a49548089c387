"""Ctrl-C in the command line: an interrupt that says what it kept, and sections it cannot cut in half."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["Interrupted", "deferred_interrupt"]


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C that knows what is on disk: ``main`` prints ``chainrule: interrupted; <note>``."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until the block is done, then raise it.

    Used around the writing of a run's files, so that the files of one commit are all renamed or none is:
    a Ctrl-C between two renames would leave a model without its metrics. Outside the main thread
    (where signal handlers cannot be set) the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signal.SIGINT, None)
        elif previous is not signal.SIG_IGN:
            raise KeyboardInterrupt
