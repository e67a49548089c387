"""The engine stays readable: docs/engine.md names only code that exists, no function in
``chainrule/autograd/`` is longer than 60 lines, and ``src/`` carries no timing notes (they belong in
docs/performance.md)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

engine = importlib.import_module("chainrule.autograd.engine")
function = importlib.import_module("chainrule.autograd.function")
skeleton = importlib.import_module("chainrule.autograd.skeleton")
tensor = importlib.import_module("chainrule.tensor")  # `import chainrule.tensor as t` gives cr.tensor()

ROOT = Path(__file__).resolve().parents[2]
AUTOGRAD = ROOT / "src" / "chainrule" / "autograd"
MODULES = (function, engine, skeleton, tensor)


def _defined(name: str) -> bool:
    if name.startswith("torch."):
        return True  # torch's own names, for comparison
    if name.startswith("viz."):
        import chainrule.viz  # noqa: PLC0415

        return hasattr(chainrule.viz, name[4:])
    if name.startswith("self."):  # an attribute every recorded Function has
        return name[5:] in function.Function.__slots__ or hasattr(function.Function, name[5:])
    owner, _, attr = name.partition(".")
    for module in MODULES:
        obj = getattr(module, owner, None)
        if obj is not None and (not attr or hasattr(obj, attr)):
            return True
    # a method named on its own (`_record`, `check_versions`)
    return any(hasattr(cls, name) for cls in (function.Function, engine.BackwardPass, tensor.Tensor))


def test_every_name_the_engine_page_points_to_exists() -> None:
    text = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:src/chainrule/)?[\w/]+\.py)`", text):
        full = ROOT / path if path.startswith("src/") else ROOT / "src" / "chainrule" / path
        assert full.exists(), f"docs/engine.md names {path}, which does not exist"
    names = set(re.findall(r"`([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)`", text))
    code_names = {n for n in names if n[0] == "_" or n[0].isupper() or "." in n}
    code_names -= {"ValueError"}
    missing = sorted(n for n in code_names if not _defined(n))
    assert missing == [], f"docs/engine.md names code that does not exist: {missing}"


def test_no_function_in_the_autograd_package_is_longer_than_60_lines() -> None:
    long = []
    for path in AUTOGRAD.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert long == []


def test_src_has_no_timing_or_inlining_notes() -> None:
    pattern = re.compile(r"(\d\s*[µu]s\b|\d\s*ns\b|\binlined\b|~\d+% of|\dx faster)", re.IGNORECASE)
    hits = []
    for path in (ROOT / "src").rglob("*.py"):
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()}")
    assert hits == [], "\n".join(hits)
