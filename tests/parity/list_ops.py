"""Print the ops covered by the PyTorch parity suite as Markdown.

    python tests/parity/list_ops.py            # one line per op, with the variants the registry tests
    python tests/parity/list_ops.py --readme   # the README's paragraph: every op once, aliases after a slash

``tests/parity/test_op_list.py`` checks that the README holds today's paragraph and count.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_parity_ops import REGISTRY, covered_ops  # noqa: E402


def _variants_and_aliases() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per op (in registry order): the variants tested, and the other names it is tested under."""
    variants: dict[str, list[str]] = {}
    aliases: dict[str, list[str]] = {}
    for name in covered_ops():
        base, _, rest = name.partition("[")
        variants.setdefault(base, [])
        if rest:
            variants[base].append(rest.rstrip("]"))
    for spec in REGISTRY:
        names = aliases.setdefault(spec.name.split("[")[0], [])
        names.extend(a for a in spec.aliases if a not in names)
    return variants, aliases


def readme_paragraph() -> str:
    """Every op once, in registry order, as the README lists them: `clamp` / `clip`, `exp`, ..."""
    variants, aliases = _variants_and_aliases()
    return ", ".join(" / ".join(f"`{n}`" for n in [base, *aliases[base]]) for base in variants) + "."


def op_count() -> int:
    return len(_variants_and_aliases()[0])


def markdown() -> str:
    variants, aliases = _variants_and_aliases()
    lines = []
    for base, extra in variants.items():
        names = " / ".join(f"`{n}`" for n in [base, *aliases.get(base, [])])
        suffix = f" (also: {'; '.join(extra)})" if extra else ""
        lines.append(f"- {names}{suffix}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(readme_paragraph() if sys.argv[1:] == ["--readme"] else markdown())
