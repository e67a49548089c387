"""A griffe extension for the API pages: doctest examples in docstrings become ```pycon code blocks.

The docstrings keep plain ``>>>`` examples (so ``python -m doctest`` and pytest can run them); without fences
Markdown would read ``>>>`` as nested quotes and ``[...]`` output as links.
"""

from __future__ import annotations

from typing import Any

from griffe import Extension


def fence_doctests(text: str) -> str:
    """Wrap every run of ``>>>``/``...`` lines, and the output lines after it, in a fenced pycon block."""
    lines = text.splitlines()
    out: list[str] = []
    in_code_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_code_fence = not in_code_fence
        if in_code_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(Extension):
    """Fence the doctests of every object's docstring once it is loaded."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        docstring = getattr(obj, "docstring", None)
        if docstring is not None and ">>>" in docstring.value:
            docstring.value = fence_doctests(docstring.value)
