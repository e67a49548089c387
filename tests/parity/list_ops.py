"""Print the ops covered by the PyTorch parity suite as a Markdown list (for the README).

    python tests/parity/list_ops.py

Each line is one op, with the variants the registry tests (a Python number or ndarray operand, ties...).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_parity_ops import REGISTRY, covered_ops  # noqa: E402


def markdown() -> str:
    variants: dict[str, list[str]] = {}
    aliases: dict[str, list[str]] = {}
    for name in covered_ops():
        base, _, rest = name.partition("[")
        variants.setdefault(base, [])
        if rest:
            variants[base].append(rest.rstrip("]"))
    for spec in REGISTRY:
        aliases.setdefault(spec.name.split("[")[0], []).extend(spec.aliases)
    lines = []
    for base, extra in variants.items():
        names = " / ".join(f"`{n}`" for n in [base, *aliases.get(base, [])])
        suffix = f" (also: {'; '.join(extra)})" if extra else ""
        lines.append(f"- {names}{suffix}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
