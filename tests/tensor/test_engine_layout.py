"""The engine stays readable: docs/engine.md names only code that exists, no function in
``chainrule/autograd/`` is longer than 60 lines, and ``src/`` carries no timing notes (they belong in
docs/performance.md)."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
from pathlib import Path

engine = importlib.import_module("chainrule.autograd.engine")
function = importlib.import_module("chainrule.autograd.function")
skeleton = importlib.import_module("chainrule.autograd.skeleton")
tensor = importlib.import_module("chainrule.tensor")  # `import chainrule.tensor as t` gives cr.tensor()
custom_function = importlib.import_module("chainrule.autograd.custom_function")

ROOT = Path(__file__).resolve().parents[2]
AUTOGRAD = ROOT / "src" / "chainrule" / "autograd"
MODULES = (function, engine, skeleton, tensor, importlib.import_module("chainrule.autograd"),
           importlib.import_module("chainrule.autograd.functional"), importlib.import_module("chainrule.ops"),
           builtins)  # fmt: skip
#: What the engine page names besides code objects: backward's keywords, instance attributes of a pass.
KEYWORDS = set(inspect.signature(engine.backward).parameters) | set(vars(engine.BackwardPass(False, False)))


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
    # a method named on its own (`_record`, `check_versions`, `apply`), or a keyword (`create_graph`)
    classes = (function.Function, engine.BackwardPass, tensor.Tensor, custom_function.Function)
    return name in KEYWORDS or any(hasattr(cls, name) for cls in classes)


def test_every_name_the_engine_page_points_to_exists() -> None:
    text = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    for path in re.findall(r"`((?:src/chainrule/)?[\w/]+\.py)`", text):
        full = ROOT / path if path.startswith("src/") else ROOT / "src" / "chainrule" / path
        assert full.exists(), f"docs/engine.md names {path}, which does not exist"
    names = set(re.findall(r"`([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)`", text)) - {"code"}  # "names in `code`"
    missing = sorted(n for n in names if not _defined(n))
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


def test_a_recorded_op_costs_the_garbage_collector_at_most_three_objects() -> None:
    """The Function, its output Tensor and the output's weak reference: inputs live in fields, flag and
    version tuples are shared, version counters are made only when needed."""
    import gc

    import numpy as np

    import chainrule as cr

    x = cr.tensor(np.float32(0.5), requires_grad=True)
    w = cr.tensor(np.float32(2.0), requires_grad=True)

    def build(n: int) -> cr.Tensor:
        t = x
        for i in range(n):
            t = (t * w if i % 2 else t * 0.5).tanh() + x  # two-input, scalar and one-input ops
        return t

    build(10)  # warm up: interned tuples, caches
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        keep = build(1000)
        per_op = (len(gc.get_objects()) - before) / 3000
    finally:
        gc.enable()
    assert keep.requires_grad and per_op <= 3.01, per_op


def test_inputs_of_an_op_not_called_or_not_recorded_are_none_and_three_inputs_are_kept() -> None:
    import chainrule as cr
    from chainrule.ops.elementwise import Mul

    assert Mul().inputs is None
    a, b = cr.ones(2, requires_grad=True), cr.zeros(2)
    with cr.no_grad():
        f = Mul()
        f(a, b)
    assert f.inputs is None
    c = cr.ones(2, requires_grad=True)
    inputs = cr.cat([a, b, c]).creator.inputs
    assert len(inputs) == 3 and inputs[0] is a and inputs[1] is b and inputs[2] is c
