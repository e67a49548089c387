"""docs/explain.md's drawing and training-picture examples run, and print what the page shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_explain_page_drawing_sections_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("grandalf")
    monkeypatch.chdir(tmp_path)
    text = (DOCS / "explain.md").read_text(encoding="utf-8")
    text = text[text.index("## Drawing the graph") :]
    blocks = FENCE.findall(text)
    assert sum(lang == "python" for lang, _ in blocks) == 3
    namespace: dict[str, object] = {"__name__": "explain.md"}
    printed: str | None = None
    for k, (lang, body) in enumerate(blocks):
        if lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"explain.md block {k}", "exec"), namespace)  # noqa: S102 - the docs' code
            printed = out.getvalue()
        elif lang == "text":
            assert printed == body, f"block {k} shows:\n{body}\nbut the code printed:\n{printed}"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["curves.png", "grad_flow.png", "two_layer.dot", "two_layer.svg"]
