"""docs/tensor.md and docs/custom_function.md run top to bottom, and each ```text block is exactly what the
python block before it prints; chainrule.autograd.functional's docstring examples hold."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("page", ["tensor.md", "custom_function.md"])
def test_tutorial_runs_and_prints_what_it_shows(page: str) -> None:
    blocks = FENCE.findall((DOCS / page).read_text(encoding="utf-8"))
    assert sum(lang == "python" for lang, _ in blocks) >= 6
    namespace: dict[str, object] = {"__name__": page}
    printed: str | None = None
    for k, (lang, body) in enumerate(blocks):
        if lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"{page} block {k}", "exec"), namespace)  # noqa: S102 - the docs' own code
            printed = out.getvalue()
        elif lang == "text":
            assert printed is not None, f"{page} block {k}: a text block must follow a python block"
            assert printed == body, f"{page} block {k} shows:\n{body}\nbut the code printed:\n{printed}"
            printed = None


def test_functional_docstring_examples() -> None:
    import chainrule.autograd.functional as functional  # noqa: PLC0415

    result = doctest.testmod(functional, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0
