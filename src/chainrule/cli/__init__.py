"""The ``chainrule`` command: ``demo``, ``train``, ``explain``, ``graph`` and ``bench``.

Run ``chainrule --help`` (or ``python -m chainrule --help``) for the list, and ``chainrule VERB --help``
for each verb. Every mistake in the arguments is reported on one line, ``chainrule: error: ...``, with exit
status 2; Ctrl-C stops with status 130 and one line saying what was kept (``chainrule train`` keeps its
last saved epoch), never a half-written file. Set
``CHAINRULE_DEBUG=1`` to see the full traceback of an error instead.

>>> main(["--version"])  # doctest: +SKIP
chainrule 0.1.0
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence

from chainrule.cli import bench, demo, explain_cmd, graph, train
from chainrule.cli._common import ArgumentParser, CLIError

__all__ = ["build_parser", "main"]

_VERBS = (demo, train, explain_cmd, graph, bench)

# Errors that mean "the input was wrong" rather than "chainrule has a bug": reported on one line.
_USER_ERRORS = (
    CLIError,
    ValueError,
    TypeError,
    FileNotFoundError,
    PermissionError,
    OSError,
    RuntimeError,
    ImportError,
)


def build_parser() -> ArgumentParser:
    """The argument parser for the ``chainrule`` command and its verbs."""
    from chainrule import __version__  # noqa: PLC0415

    parser = ArgumentParser(
        prog="chainrule",
        description="chainrule: autodiff you can read. A guided demo, training, backprop explanations, "
        "graph drawings and benchmarks.",
        epilog="Run 'chainrule VERB --help' for the options of each verb. Start with 'chainrule demo'.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", title="verbs")
    for module in _VERBS:
        module.add_parser(verbs)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.strerror}: {_short_name(str(error.filename))}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines)


def _short_name(name: str, limit: int = 120) -> str:
    """A file name for an error line: a 1,800-character name is cut, with its length said."""
    return repr(name) if len(name) <= limit else f"{name[: limit - 20]!r}... ({len(name)} characters)"


def _interrupted(error: KeyboardInterrupt) -> int:
    """Ctrl-C: one line that says only what is true (a verb that wrote something says what it kept)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # we are leaving: a second Ctrl-C must not cut this line
    note = getattr(error, "note", None)
    sys.stdout.flush()
    print(
        f"chainrule: interrupted; {note}" if note else "chainrule: interrupted", file=sys.stderr, flush=True
    )
    return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    debug = bool(os.environ.get("CHAINRULE_DEBUG"))
    try:
        parser = build_parser()
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.verb is None:
            parser.print_help()
            return 0
        return int(args.run(args) or 0)
    except BrokenPipeError:  # the reader went away (``chainrule explain ... | head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as error:
        return _interrupted(error)
    except _USER_ERRORS as error:
        if debug:
            raise
        sys.stdout.flush()
        print(f"chainrule: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return 2
