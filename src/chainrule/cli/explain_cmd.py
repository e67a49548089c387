"""``chainrule explain``: print backpropagation step by step, for an example or an expression."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainrule.cli._common import check_writable_file, say, write_atomic
from chainrule.cli._source import add_source_arguments, build_output

__all__ = ["add_parser", "run"]


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "explain",
        help="print backpropagation step by step",
        description="Print the forward values and every backward step (local derivative times upstream "
        "gradient) of an example or of an expression.",
        epilog="Example: chainrule explain --expr 'sigmoid(w*x+b)' --set w=2 --set x=0.5 --set b=-1 --check",
    )
    add_source_arguments(p)
    p.add_argument(
        "--check", action="store_true", help="compare every gradient with a numerical (finite-difference) one"
    )
    p.add_argument("--markdown", metavar="FILE", type=Path, help="also write the report as Markdown to FILE")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import chainrule  # noqa: PLC0415

    if args.markdown is not None:
        check_writable_file(args.markdown)
    output = build_output(args)
    report = chainrule.explain(output, numerical_check=args.check)
    say(str(report))
    if args.markdown is not None:
        write_atomic(args.markdown, lambda tmp: tmp.write_text(report.to_markdown(), encoding="utf-8"))
        say(f"\nwrote {args.markdown}")
    return 0
