"""Ctrl-C in the command line: an interrupt that says what it kept.

(Sections that a Ctrl-C must not cut in half use :func:`chainrule._files.deferred_interrupts`.)
"""

from __future__ import annotations

__all__ = ["Interrupted"]


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C that knows what is on disk: ``main`` prints ``chainrule: interrupted; <note>``."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note
