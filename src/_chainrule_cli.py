"""The ``chainrule`` console script's entry point.

It lives outside the ``chainrule`` package on purpose: importing ``chainrule.cli`` first imports the package,
NumPy and all (about a tenth of a second), and a Ctrl-C during that import would end in a traceback. Here
the import itself is guarded, so Ctrl-C at any moment is one line and exit status 130.
"""

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Import the command line, then run it; Ctrl-C during the import is one line, exit status 130."""
    try:
        from chainrule.cli import main as run_command_line
    except KeyboardInterrupt:  # nothing has run yet, so nothing was written
        print("chainrule: interrupted", file=sys.stderr, flush=True)
        return 130
    return run_command_line(argv)
