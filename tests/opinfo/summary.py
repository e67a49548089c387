"""Print how chainrule fares on PyTorch's OpInfo samples: ``python -m tests.opinfo.summary [--deep]``.

Runs the same cases as ``tests/opinfo/test_opinfo.py`` (``--deep``: every sample and the reference inputs, as
``make test-deep``) and prints entries mapped and passing, cases run/passed/skipped (by reason)/failing (by
category), and lists the silent mismatches. ``--write-known`` rewrites ``known_failures.py`` with today's
failures (run it with ``--deep`` so the list covers both runs, then review the diff). ``--only PATTERN``
(repeatable, shell-style, e.g. ``'linalg.*'``) restricts the run to matching entries and lists each of their
failures; it cannot be combined with ``--write-known``.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import sys
import time
import warnings
from pathlib import Path

from . import harness
from .deliberate import DELIBERATE


def run_all(deep: bool, only: list[str] | None = None) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(check, key, sample id) -> (outcome, detail): outcome is "pass", "skip" or a failure category.
    ``only``: shell-style patterns; when given, just the entries matching one of them."""
    # chainrule's own RuntimeWarnings are errors in the test suite (pyproject's filterwarnings): here too.
    warnings.filterwarnings("error", category=RuntimeWarning, module=r"chainrule\..*")
    warnings.filterwarnings("ignore", category=UserWarning)
    results = {}
    keep = None if not only else (lambda key: any(fnmatch.fnmatchcase(key, pattern) for pattern in only))
    for case in harness.cases(deep, keep):
        try:
            harness.run(*case, deep=deep)
        except harness.SkipSample as e:
            results[case] = ("skip", str(e))
        except harness.Failure as e:
            results[case] = (e.category, str(e))
        except Exception as e:  # a bug in the harness itself: shown, never counted as a pass
            results[case] = ("harness error", f"{type(e).__name__}: {e}")
        else:
            results[case] = ("pass", "")
        if case in DELIBERATE and results[case][0] == DELIBERATE[case][0]:
            results[case] = ("deliberate", DELIBERATE[case][1])
    return results


def report(
    results: dict[tuple[str, str, str], tuple[str, str]],
    deep: bool,
    seconds: float,
    only: list[str] | None = None,
) -> str:
    db, mapped = harness.op_db(), harness.entries()
    if only:
        db = {k: v for k, v in db.items() if any(fnmatch.fnmatchcase(k, p) for p in only)}
        mapped = {k: v for k, v in mapped.items() if k in db}
    failing_entries = {key for (_, key, _), (outcome, _) in results.items() if outcome in harness.CATEGORIES}
    lines = [
        f"OpInfo vs chainrule ({'deep: every sample + reference inputs' if deep else 'default sampling'}, "
        f"{seconds:.0f} s)",
        f"entries in op_db:                      {len(db)}",
        f"entries mapped to a chainrule op:      {len(mapped)}",
        f"mapped entries passing every sample:   {len(set(mapped) - failing_entries)}",
        "",
    ]
    for check in harness.CHECKS:
        outcomes = collections.Counter(o for (c, _, _), (o, _) in results.items() if c == check)
        total = sum(outcomes.values())
        run = total - outcomes["skip"]
        fails = ", ".join(f"{outcomes[c]} {c}" for c in [*harness.CATEGORIES, "harness error"] if outcomes[c])
        passed = outcomes["pass"] + outcomes["deliberate"]
        counts = f"run {run:5d}, passed {passed:5d}, skipped {outcomes['skip']:4d}"
        lines.append(f"{check:9s} cases {total:5d}: {counts}" + (f", failing: {fails}" if fails else ""))
    values = {case: r for case, r in results.items() if case[0] == "values"}
    passed = sum(o in ("pass", "deliberate") for o, _ in values.values())
    ran = sum(o != "skip" for o, _ in values.values())
    lines += ["", f"samples (values check): {passed} of {ran} run pass ({100 * passed / max(ran, 1):.1f}%)"]
    deliberate = sorted(case for case, (o, _) in results.items() if o == "deliberate")
    if deliberate:
        lines += [f"deliberate differences (tests/opinfo/deliberate.py, docs/promises.md): {len(deliberate)}"]
        lines += [f"  {c}/{k}/{s}: {DELIBERATE[(c, k, s)][1]}" for c, k, s in deliberate]
    skips = collections.Counter(d for o, d in results.values() if o == "skip")
    if skips:
        lines += ["", "skipped, by reason:"] + [f"  {n:5d}  {reason}" for reason, n in skips.most_common()]
    shown = ("mismatch", "grad mismatch", "harness error") + (("dtype", "raises") if only else ())
    for category in shown:
        listed = [(case, d) for case, (o, d) in results.items() if o == category]
        if listed:
            titles = {"mismatch": "silent mismatches", "grad mismatch": "silent grad mismatches"}
            title = titles.get(category, category)
            lines += ["", f"{title} ({len(listed)}):"]
            lines += [f"  {c}/{k}/{s}: {d[:200]}" for (c, k, s), d in listed]
    unmapped = sorted(set(db) - set(mapped))
    lines += ["", f"not mapped ({len(unmapped)}): " + ", ".join(unmapped)]
    return "\n".join(lines)


def write_known(results: dict[tuple[str, str, str], tuple[str, str]], path: Path) -> None:
    """known_failures.py with every failing case, silent mismatches first."""
    order = list(harness.CATEGORIES)
    failing = sorted(
        ((case, o, d) for case, (o, d) in results.items() if o in harness.CATEGORIES),
        key=lambda x: (order.index(x[1]), x[0][1], x[0][0], _sid_order(x[0][2])),
    )
    out = [
        '"""Today\'s failing OpInfo cases: each is an ``xfail(strict=True)`` in test_opinfo.py, so a fix',
        "turns it into an XPASS and the list must shrink. A case failing in another category fails the test.",
        "",
        "(check, entry, sample id) -> (category, what happens). Silent mismatches first. Regenerate with",
        "``python -m tests.opinfo.summary --deep --write-known`` and review the diff.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "# fmt: off",
        "KNOWN_FAILURES: dict[tuple[str, str, str], tuple[str, str]] = {",
    ]
    for (check, key, sid), category, detail in failing:
        out.append(f"    ({check!r}, {key!r}, {sid!r}): ({category!r}, {detail[:200]!r}),")
    out += ["}", "# fmt: on"]
    path.write_text("\n".join(out) + "\n")


def _sid_order(sid: str) -> tuple[str, int]:
    return sid[0], int(sid[1:])


def main(argv: list[str] | None = None) -> int:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m tests.opinfo.summary", description=description)
    parser.add_argument("--deep", action="store_true", help="every sample and the reference inputs")
    parser.add_argument("--write-known", action="store_true", help="rewrite known_failures.py")
    parser.add_argument("--only", action="append", metavar="PATTERN", help="entries matching (repeatable)")
    args = parser.parse_args(argv)
    if args.only and args.write_known:
        parser.error("--write-known needs the whole run (without --only)")
    reason = harness.unavailable()
    if reason:
        print(f"summary: error: {reason}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = run_all(args.deep, args.only)
    print(report(results, args.deep, time.perf_counter() - start, args.only))
    if args.write_known:
        write_known(results, Path(__file__).with_name("known_failures.py"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
