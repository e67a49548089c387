"""``python -m chainrule``: the same command line as the ``chainrule`` script."""

import sys

try:
    from chainrule.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still being imported: nothing has run yet
    print("chainrule: interrupted", file=sys.stderr, flush=True)
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())
