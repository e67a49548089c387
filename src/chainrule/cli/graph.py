"""``chainrule graph``: draw the computational graph of an example or an expression."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainrule.cli._common import CLIError, check_writable_file, say, write_atomic
from chainrule.cli._source import add_source_arguments, build_output

__all__ = ["SUFFIXES", "add_parser", "run"]

SUFFIXES = (".dot", ".svg", ".png", ".pdf")


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "graph",
        help="draw the computational graph",
        description="Write the computational graph as Graphviz source (.dot) or as a picture (.svg, .png or "
        ".pdf). Pictures need only pip install 'chainrule[viz]' (grandalf + matplotlib); Graphviz's 'dot' "
        "program draws them instead when it is on the PATH.",
        epilog="Example: chainrule graph --example two-layer --out two_layer.svg",
    )
    add_source_arguments(p)
    p.add_argument("--out", metavar="FILE", type=Path, required=True, help="FILE.dot, .svg, .png or .pdf")
    p.add_argument(
        "--max-nodes",
        metavar="N",
        type=_positive_int,
        default=None,
        help="draw pictures of graphs up to N nodes (default 400; larger ones are hard to read)",
    )
    p.set_defaults(run=run)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from chainrule import viz  # noqa: PLC0415

    check_writable_file(args.out, suffixes=SUFFIXES)
    missing = viz.picture_blockers() if args.out.suffix.lower() != ".dot" else []
    if missing:  # said before any work
        raise CLIError(
            f"writing {args.out} needs {' and '.join(missing)} (pip install 'chainrule[viz]') or Graphviz's "
            f"'dot' program on the PATH; or write {args.out.with_suffix('.dot')}"
        )
    output = build_output(args)
    fmt = args.out.suffix.lower().lstrip(".")
    try:  # made in memory first: an error names the user's file, and nothing half-written is left behind
        limit = {} if args.max_nodes is None else {"max_nodes": args.max_nodes}
        content = viz.draw(output, **limit).data(fmt)
    except (ImportError, ValueError, RuntimeError) as exc:
        raise CLIError(f"cannot write '{args.out}': {exc}") from None
    write_atomic(args.out, lambda tmp: tmp.write_bytes(content))
    say(f"wrote {args.out}")
    return 0
