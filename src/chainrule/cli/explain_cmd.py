"""``chainrule explain``: print backpropagation step by step, for an example or an expression.

With ``--check`` every gradient is compared with central differences and the exit status says how it went:
0 when every step agrees, 1 when one disagrees. The report ends with notes on the places where the
derivative is not defined (relu or abs at 0, ties of max/min, clamp at a bound: a kink, where backprop's
convention and the numerical two-sided difference can differ) and on NaN or infinite values.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chainrule.cli._common import check_writable_file, say, write_atomic
from chainrule.cli._source import add_source_arguments, build_output

__all__ = ["add_parser", "notes", "run"]


def add_parser(verbs: argparse._SubParsersAction) -> None:
    """Add ``chainrule explain`` to the verbs."""
    p = verbs.add_parser(
        "explain",
        help="print backpropagation step by step",
        description="Print the forward values and every backward step (local derivative times upstream "
        "gradient) of an example or of an expression.",
        epilog="Example: chainrule explain --expr 'sigmoid(w*x+b)' --set w=2 --set x=0.5 --set b=-1 --check. "
        "Exit status: 0, or 1 when --check finds a step that disagrees with finite differences.",
    )
    add_source_arguments(p)
    p.add_argument(
        "--check",
        action="store_true",
        help="compare every gradient with a numerical (finite-difference) one; exit 1 if one disagrees",
    )
    p.add_argument("--markdown", metavar="FILE", type=Path, help="also write the report as Markdown to FILE")
    p.set_defaults(run=run)


# Ops that are not differentiable where these inputs meet: kind -> (test on the input values, what it is).
def _at_zero(values: list[Any]) -> Any:
    return values[0] == 0


def _tie(values: list[Any]) -> Any:
    import numpy as np  # noqa: PLC0415

    return np.equal(*values) if len(values) == 2 else np.zeros(1, dtype=bool)


def _reduction_tie(values: list[Any]) -> Any:
    import numpy as np  # noqa: PLC0415

    v = np.asarray(values[0])
    return np.asarray([v.size > 1 and np.count_nonzero(v == v.max()) > 1])


def _reduction_tie_min(values: list[Any]) -> Any:
    import numpy as np  # noqa: PLC0415

    v = np.asarray(values[0])
    return np.asarray([v.size > 1 and np.count_nonzero(v == v.min()) > 1])


_KINKS = {
    "ReLU": (_at_zero, "relu at 0"),
    "Abs": (_at_zero, "abs at 0"),
    "Maximum": (_tie, "max of two equal values"),
    "Minimum": (_tie, "min of two equal values"),
    "AMax": (_reduction_tie, "a tie for the largest element"),
    "AMin": (_reduction_tie_min, "a tie for the smallest element"),
}


def notes(report: Any) -> list[str]:
    """Where the numbers need a warning: kinks (the derivative is not defined) and non-finite values."""
    import numpy as np  # noqa: PLC0415

    found = []
    for row in report.forward:
        inputs = [np.asarray(report.values[name]) for name in row.inputs]
        kink = _KINKS.get(row.op)
        if kink is not None and inputs:
            hit = np.asarray(kink[0](inputs))
            if hit.any():
                where = "" if hit.size == 1 else f" (at {int(np.count_nonzero(hit))} of {hit.size} elements)"
                found.append(
                    f"{row.name} = {row.expression}: {kink[1]}{where}, a kink where the derivative is not "
                    "defined; backprop uses torch's convention there, central differences average both sides"
                )
        if row.op == "Clamp":
            lo, hi = row.consts.get("lo"), row.consts.get("hi")
            x = inputs[0] if inputs else np.zeros(0)
            if (lo is not None and (x == lo).any()) or (hi is not None and (x == hi).any()):
                found.append(f"{row.name} = {row.expression}: clamp at a bound, a kink")
        value = np.asarray(report.values.get(row.name, 0.0))
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            found.append(f"{row.name} = {row.expression} is {_non_finite(value)}")
    for name, grad in report.grads.items():
        grad = np.asarray(grad)
        if grad.dtype.kind in "fc" and not np.isfinite(grad).all():
            found.append(f"d{report.output}/d{name} is {_non_finite(grad)}")
    return found


def _non_finite(array: Any) -> str:
    import numpy as np  # noqa: PLC0415

    kinds = [
        k for k, test in (("nan", np.isnan), ("inf", np.isposinf), ("-inf", np.isneginf)) if test(array).any()
    ]
    return " and ".join(kinds) if array.size == 1 else f"{' and '.join(kinds)} in places"


def run(args: argparse.Namespace) -> int:
    """Print the report (and write it as Markdown); 1 when ``--check`` finds a disagreeing step."""
    import chainrule as cr  # noqa: PLC0415

    if args.markdown is not None:
        check_writable_file(args.markdown)
    output = build_output(args)
    report = cr.explain(output, numerical_check=args.check)
    found = notes(report)
    text = str(report)
    markdown = None if args.markdown is None else report.to_markdown()
    if found:
        text += "\n\nNotes\n" + "\n".join(f"  ! {line}" for line in found)
        if markdown is not None:
            markdown += "\n## Notes\n\n" + "\n".join(f"- {line}" for line in found) + "\n"
    say(text)
    if markdown is not None:
        write_atomic(args.markdown, lambda tmp: tmp.write_text(markdown, encoding="utf-8"))
        say(f"\nwrote {args.markdown}")
    return 1 if args.check and report.ok is False else 0
