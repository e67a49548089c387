"""The API reference documents every public name: each has a docstring and appears on a docs/api page.

A name is on a page when a ``::: path`` directive renders it (the object itself, a name of its ``members:``
list, or, for a module without such a list, a name of its ``__all__``), or when a table row starts with it
(`` | `Tensor.shape` | ... ``). The default suite reads the Markdown; the deep suite also builds the site with
``mkdocs build --strict`` (where mkdocs is installed) and looks for each name's anchor in the HTML.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import chainrule

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))

# Every public module a user imports from; the names of each are its ``__all__``, or, without one, the public
# functions and classes it defines.
PUBLIC_MODULES = [
    "chainrule",
    "chainrule.nn",
    "chainrule.nn.functional",
    "chainrule.nn.init",
    "chainrule.nn.utils",
    "chainrule.optim",
    "chainrule.optim.lr_scheduler",
    "chainrule.data",
    "chainrule.datasets",
    "chainrule.scalar",
    "chainrule.scalar.scalar",
    "chainrule.scalar.graph",
    "chainrule.scalar.nn",
    "chainrule.scalar.optim",
    "chainrule.scalar.losses",
    "chainrule.scalar.datasets",
    "chainrule.scalar.train",
    "chainrule.viz",
    "chainrule.io",
    "chainrule.explain",
    "chainrule.examples",
    "chainrule.testing",
    "chainrule.functional",
    "chainrule.linalg",
    "chainrule.special",
    "chainrule.interop",
    "chainrule.onnx",
    "chainrule.backend",
    "chainrule.random",
    "chainrule.cli",
]
# Engine internals that must not be rendered on the pages (they were listed before, instead of public names).
INTERNALS = ["chainrule.tensor.bump_version", "chainrule.tensor.as_array", "chainrule.tensor.bind_ops"]

DIRECTIVE = re.compile(r"^::: *([\w.]+)[ \t]*\n((?:[ \t]+.*\n|[ \t]*\n)*)", re.MULTILINE)
MEMBERS = re.compile(r"^\s+members:\s*\[([^\]]*)\]", re.MULTILINE)
TABLE_ROW = re.compile(r"^\| *`([\w.]+)` *\|", re.MULTILINE)


def _resolve(path: str) -> Any:
    """The object a dotted path names at run time: a module, or an attribute of the longest module prefix."""
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, attr = path.rpartition(".")
        if not module:
            raise AttributeError(f"{path!r} names no module or attribute") from None
        return getattr(_resolve(module), attr)


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and v.__module__ == module.__name__
    ]


def _directives() -> list[tuple[str, list[str] | None]]:
    found = []
    for page in PAGES:
        for match in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            members = MEMBERS.search(match.group(2))
            names = [m.strip() for m in members.group(1).split(",") if m.strip()] if members else None
            found.append((match.group(1), names))
    return found


def _table_names() -> set[str]:
    return {name for page in PAGES for name in TABLE_ROW.findall(page.read_text(encoding="utf-8"))}


def _documented() -> tuple[set[str], set[int]]:
    """The dotted paths the pages render, and the ids of the objects behind them."""
    paths: set[str] = set(_table_names())
    for path, members in _directives():
        obj = _resolve(path)
        paths.add(path)
        if members is not None:
            paths.update(f"{path}.{m}" for m in members)
        elif inspect.ismodule(obj):
            paths.update(f"{path}.{n}" for n in _public_names(obj))
    objects = set()
    for path in paths:
        try:
            objects.add(id(_resolve(path)))
        except AttributeError:  # a table row such as `Tensor.shape`: checked on its own below
            pass
    return paths, objects


def _is_code(obj: Any) -> bool:
    return inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)


def _own_doc(obj: Any) -> str | None:
    """The object's own docstring (a class's, not one inherited from its base)."""
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__")
    return getattr(obj, "__doc__", None)


def _public(module_name: str) -> list[tuple[str, Any]]:
    module = importlib.import_module(module_name)
    return [(f"{module_name}.{n}", getattr(module, n)) for n in _public_names(module)]


def test_every_directive_names_something_real():
    for path, members in _directives():
        obj = _resolve(path)  # AttributeError/ImportError: a stale page
        for m in members or []:
            assert hasattr(obj, m), f"docs/api: {path} has no member {m!r}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name):
    missing = [
        path for path, obj in _public(module_name) if _is_code(obj) and not (_own_doc(obj) or "").strip()
    ]
    assert not missing, f"public names without a docstring: {missing}"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_on_a_page(module_name):
    paths, objects = _documented()
    missing = [
        path
        for path, obj in _public(module_name)
        if path not in paths and not (_is_code(obj) and id(obj) in objects)
    ]
    assert not missing, f"public names on no docs/api page: {missing}"


def test_the_names_the_issue_found_missing_are_there():
    paths, objects = _documented()
    for name in ("exp", "zeros", "cat", "concat", "save", "load", "tensor", "no_grad"):
        assert id(getattr(chainrule, name)) in objects, name
    assert "Tensor.reshape" in _table_names() or "chainrule.Tensor.reshape" in paths


def test_every_tensor_attribute_is_on_the_tensor_page():
    text = (ROOT / "docs" / "api" / "tensor.md").read_text(encoding="utf-8")
    rendered = next(members for path, members in _directives() if path == "chainrule.Tensor") or []
    rows = {name.removeprefix("Tensor.") for name in TABLE_ROW.findall(text) if name.startswith("Tensor.")}
    public = {n for n in dir(chainrule.Tensor) if not n.startswith("_")}
    assert public - set(rendered) - rows == set()
    assert (set(rendered) | rows) - public == set(), "the page lists Tensor members that do not exist"
    for name in rendered:  # rendered by mkdocstrings: they need their own docstring
        member = inspect.getattr_static(chainrule.Tensor, name)
        assert (getattr(member, "fget", member).__doc__ or "").strip(), f"Tensor.{name} has no docstring"


def test_internals_are_not_rendered():
    paths, _ = _documented()
    for path, _members in _directives():
        private = [part for part in path.split(".") if part.startswith("_") and not part.endswith("__")]
        assert not private, f"a private module or name on a page: {path}"
        assert path != "chainrule.tensor", "the whole tensor module would render its helpers"
    assert not set(INTERNALS) & paths


@pytest.mark.deep
def test_mkdocs_build_renders_an_anchor_for_every_public_name(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = "".join(p.read_text(encoding="utf-8") for p in (site / "api").rglob("*.html"))
    ids = set(re.findall(r'id="(chainrule[\w.]*)"', html))
    missing = []
    for module_name in PUBLIC_MODULES:
        for path, obj in _public(module_name):
            if not _is_code(obj) or inspect.ismodule(obj):
                continue
            own = f"{obj.__module__}.{obj.__qualname__}" if hasattr(obj, "__qualname__") else None
            if path not in ids and own not in ids:
                missing.append(path)
    assert not missing, f"no anchor in the built site for: {missing}"


def test_tensor_method_links_point_at_an_op_on_the_operations_page():
    tensor_page = (ROOT / "docs" / "api" / "tensor.md").read_text(encoding="utf-8")
    ops_page = (ROOT / "docs" / "api" / "ops.md").read_text(encoding="utf-8")
    targets = re.findall(r"\(ops\.md#(chainrule\.\w+)\)", tensor_page)
    assert targets
    rendered = {path for path in re.findall(r"^::: *([\w.]+)", ops_page, re.MULTILINE)}
    assert sorted(set(targets) - rendered) == []
