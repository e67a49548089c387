"""``chainrule graph``: draw the computational graph of an example or an expression."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from chainrule.cli._common import CLIError, check_writable_file, say, write_atomic
from chainrule.cli._source import add_source_arguments, build_output

__all__ = ["SUFFIXES", "add_parser", "run"]

SUFFIXES = (".dot", ".svg", ".png")


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "graph",
        help="draw the computational graph",
        description="Write the computational graph as Graphviz source (.dot, always available) or as a "
        "picture (.svg or .png, which needs Graphviz's 'dot' program on the PATH).",
        epilog="Example: chainrule graph --example chain --out chain.dot",
    )
    add_source_arguments(p)
    p.add_argument("--out", metavar="FILE", type=Path, required=True, help="FILE.dot, FILE.svg or FILE.png")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chainrule import viz  # noqa: PLC0415

    check_writable_file(args.out, suffixes=SUFFIXES)
    if args.out.suffix.lower() != ".dot" and shutil.which("dot") is None:  # said before any work
        raise CLIError(
            f"writing {args.out} needs Graphviz's 'dot' program, which is not on the PATH: install Graphviz "
            f"(e.g. apt install graphviz / brew install graphviz), or write {args.out.with_suffix('.dot')}"
        )
    output = build_output(args)
    write_atomic(args.out, lambda tmp: viz.render(output, tmp))
    say(f"wrote {args.out}")
    return 0
