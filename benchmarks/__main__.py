"""``python -m benchmarks [--json PATH] [--quick] [--only NAME]``: run the cases, one line each.

Each line reads ``case: chainrule X ms, anchor Y ms, ratio R (target T)``; ratios are chainrule / anchor.
The ``-gc`` cases rerun a graph-heavy case with 150k extra live objects and nothing frozen (see harness.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

from benchmarks.harness import FROZEN, LIVE_OBJECTS, REALISTIC, GCCondition, Result, match_threads, skipped


def _scalar(condition: GCCondition = FROZEN) -> Callable[[], list[Result]]:
    def run() -> list[Result]:
        try:
            from benchmarks import bench_scalar
        except ImportError as exc:
            case = "scalar 2-16-16-1 MLP, 200 points" + condition.label
            return [skipped(case, f"bench_scalar not available: {exc}", "micrograd")]
        return bench_scalar.run(condition)

    return run


def _tensor(which: str, condition: GCCondition = FROZEN) -> Callable[[], list[Result]]:
    def run() -> list[Result]:
        from benchmarks import bench_tensor

        return [getattr(bench_tensor, which)(condition)]

    return run


def _nn(which: str) -> Callable[[], list[Result]]:
    def run() -> list[Result]:
        from benchmarks import bench_nn

        return [getattr(bench_nn, which)()]

    return run


def _import() -> list[Result]:
    from benchmarks import bench_import

    return bench_import.run()


def _memory() -> list[Result]:
    from benchmarks import bench_memory

    return bench_memory.run()


#: name (for --only) -> runner, in the order the table lists them.
CASES: dict[str, Callable[[], list[Result]]] = {
    "tiny": _tensor("tiny_ops"),
    "tiny-gc": _tensor("tiny_ops", REALISTIC),
    "mlp64": _nn("mlp_small"),
    "mlp784": _nn("mlp_784"),
    "cnn": _nn("cnn"),
    "lstm": _nn("lstm"),
    "wide": _tensor("wide_graph"),
    "wide-gc": _tensor("wide_graph", REALISTIC),
    "scalar": _scalar(),
    "scalar-gc": _scalar(REALISTIC),
    "import": _import,
    "memory": _memory,
}


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import numpy as np

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "numpy": np.__version__,
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m benchmarks`` and ``chainrule bench``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write every result to PATH as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (rougher numbers, ~4x faster)")
    parser.add_argument(
        "--only", metavar="NAME", action="append", help=f"run only this case (repeatable): {', '.join(CASES)}"
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="set NumPy's BLAS and torch to N threads (default: torch gets NumPy's count)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["CHAINRULE_BENCH_QUICK"] = "1"
    names = list(CASES)
    if args.only:
        unknown = [n for n in args.only if n not in CASES]
        if unknown:
            parser.error(f"unknown case {', '.join(unknown)}; choose from {', '.join(CASES)}")
        names = [n for n in names if n in args.only]

    threads = match_threads(args.threads)
    info = machine()
    print(
        f"# {info['processor']}, {info['cpus']} CPUs, Python {info['python']}, NumPy {info['numpy']}, "
        f"torch {info['torch']}; float32; {threads}"
    )
    print(
        "# gc on while timing; each case starts from gc.collect() and gc.freeze() (what was alive before it "
        f"is not walked), except the '{REALISTIC.label.strip()}' lines: nothing frozen, "
        f"{LIVE_OBJECTS:,} extra live objects"
    )
    results: list[Result] = []
    start = time.perf_counter()
    for name in names:
        for result in CASES[name]():
            print(result.line(), flush=True)
            results.append(result)
    elapsed = time.perf_counter() - start
    print(f"# {len(results)} cases in {elapsed:.0f} s")
    if args.json:
        payload = {
            "machine": info,
            "threads": threads,
            "seconds": elapsed,
            "results": [r.to_json() for r in results],
        }
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=str)
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
