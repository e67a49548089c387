"""What ``chainrule explain`` and ``chainrule graph`` work on: a built-in example or an expression."""

from __future__ import annotations

import argparse
from typing import Any

from chainrule._expression import FUNCTIONS
from chainrule.cli._common import CLIError

__all__ = ["EXAMPLES", "add_source_arguments", "assignment", "build_output"]

# Command-line spelling -> function name in chainrule.examples.
EXAMPLES = {"two-layer": "two_layer", "scalar": "scalar", "chain": "chain"}


def assignment(text: str) -> tuple[str, float | list]:
    """An argparse type: ``NAME=VALUE`` with a Python identifier and a finite number or a nested list."""
    from chainrule.examples import parse_value  # noqa: PLC0415

    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (for example w=2 or W=[[1,2],[3,4]]), got {text!r}"
        )
    try:
        return name, parse_value(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} after '{name}=', got {text!r}") from None


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--example NAME`` or ``--expr EXPR`` with ``--set NAME=VALUE`` (repeatable)."""
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--example",
        choices=sorted(EXAMPLES),
        help="a built-in example: 'chain' is y = (exp(x^2))^2 at x = 0.5, 'two-layer' the 2-2-1 sigmoid "
        "network worked by hand, 'scalar' y = 3*x1 + 5*x2 on the scalar engine",
    )
    group.add_argument(
        "--expr",
        metavar="EXPR",
        help="an expression such as 'sigmoid(w*x+b)' or 'sigmoid(W2 @ sigmoid(W1 @ x + b1) + b2)': "
        "+ - * / %% ** @, parentheses, numbers, pi, e, and the functions "
        f"{', '.join(FUNCTIONS)} (max/min of one argument: its largest/smallest element); the output is f",
    )
    p.add_argument(
        "--set",
        metavar="NAME=VALUE",
        dest="values",
        action="append",
        type=assignment,
        default=[],
        help="the value of a variable of --expr: a number, or a vector or matrix such as W=[[1,2],[3,4]] "
        "(repeat for each variable)",
    )


def build_output(args: argparse.Namespace) -> Any:
    """Build the graph named by the arguments and return its output (a Tensor)."""
    from chainrule import examples  # noqa: PLC0415

    if args.expr is None:
        if args.values:
            raise CLIError("--set only applies to --expr")
        return getattr(examples, EXAMPLES[args.example])()
    values: dict[str, float | list] = {}
    for name, number in args.values:
        if name in values:
            raise CLIError(f"--set {name}= given twice")
        values[name] = number
    _, variables = examples.parse_expression(args.expr)
    unused = [name for name in values if name not in variables]
    if unused:
        raise CLIError(
            f"--set {unused[0]}=... names a variable that --expr {args.expr!r} does not use "
            f"(its variables: {', '.join(variables) or 'none'})"
        )
    try:
        return examples.expression(args.expr, values)
    except (NameError, KeyError, SyntaxError, ZeroDivisionError) as error:
        raise CLIError(f"cannot evaluate --expr {args.expr!r}: {error}") from None
