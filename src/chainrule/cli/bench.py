"""``chainrule bench``: run the benchmark suite (chainrule side by side with PyTorch and micrograd).

The suite lives in the repository's ``benchmarks/`` folder, which is not part of the installed package:
the verb finds it in the current folder or in the checkout that chainrule was installed from (an editable
install), and otherwise says how to get it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from chainrule.cli._common import CLIError, check_writable_file

__all__ = ["add_parser", "find_benchmarks", "run"]

_HOW = (
    "the benchmark suite is not installed with the package; run 'chainrule bench' (or 'make bench') "
    "from a checkout of the chainrule repository"
)


def add_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "bench",
        help="time chainrule against PyTorch and micrograd",
        description="Run the benchmark suite in the repository's benchmarks/ folder and print each case's "
        "time and its ratio to the reference library.",
    )
    p.add_argument("--json", metavar="PATH", type=Path, help="also write the results to this JSON file")
    p.add_argument("--quick", action="store_true", help="fewer repetitions: a rough idea in seconds")
    p.add_argument(
        "--only",
        metavar="CASE",
        action="append",
        help=(
            "run only this case (repeatable): tiny, tiny-gc, mlp64, mlp784, cnn, lstm, wide, wide-gc, "
            "scalar, scalar-gc, import, memory"
        ),
    )
    p.add_argument(
        "--threads",
        metavar="N",
        type=int,
        help="set NumPy's BLAS and torch to N threads (default: torch gets NumPy's count)",
    )
    p.set_defaults(run=run)


def _candidate_roots() -> list[Path]:
    package_dir = Path(__file__).resolve().parents[1]  # src/chainrule
    roots = [Path.cwd(), package_dir.parents[1]]  # the current folder, then the checkout (src layout)
    out: list[Path] = []
    for root in roots:
        if root not in out:
            out.append(root)
    return out


def find_benchmarks() -> ModuleType | None:
    """The ``benchmarks.__main__`` module of a chainrule checkout, or None when there is none."""
    for root in _candidate_roots():
        entry = root / "benchmarks" / "__main__.py"
        if not entry.is_file():
            continue
        loaded = sys.modules.get("benchmarks")
        if (
            loaded is not None
            and Path(getattr(loaded, "__file__", "") or "").resolve().parent != entry.parent
        ):
            continue
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return importlib.import_module("benchmarks.__main__")
    return None


def run(args: argparse.Namespace) -> int:
    if args.json is not None:
        check_writable_file(args.json, suffixes=(".json",))
    module = find_benchmarks()
    if module is None:
        print(f"chainrule: {_HOW}", file=sys.stderr)
        return 1
    argv: list[str] = ["--quick"] if args.quick else []
    cases = getattr(module, "CASES", None)
    for name in args.only or []:
        if cases is not None and name not in cases:
            raise CLIError(f"unknown benchmark case {name!r} (choose from {', '.join(cases)})")
        argv += ["--only", name]
    if args.threads is not None:
        if args.threads < 1:
            raise CLIError(f"--threads must be a positive number of threads, got {args.threads}")
        argv += ["--threads", str(args.threads)]
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--json", str(args.json)]
    return int(module.main(argv) or 0)
