"""The ``chainrule`` command: ``demo``, ``train``, ``explain``, ``graph`` and ``bench``.

Run ``chainrule --help`` (or ``python -m chainrule --help``) for the list, and ``chainrule VERB --help``
for each verb. Every mistake in the arguments is reported on one line, ``chainrule: error: ...``, with exit
status 2; Ctrl-C stops cleanly with status 130 and leaves no half-written file behind. Set
``CHAINRULE_DEBUG=1`` to see the full traceback of an error instead.

>>> main(["--version"])  # doctest: +SKIP
chainrule 0.1.0
"""

from __future__ import annotations

import os
import sys
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
        text = f"{error.strerror}: '{error.filename}'"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.verb is None:
        parser.print_help()
        return 0
    debug = bool(os.environ.get("CHAINRULE_DEBUG"))
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # the reader went away (``chainrule explain ... | head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("chainrule: interrupted; nothing was written", file=sys.stderr, flush=True)
        return 130
    except _USER_ERRORS as error:
        if debug:
            raise
        sys.stdout.flush()
        print(f"chainrule: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return 2
