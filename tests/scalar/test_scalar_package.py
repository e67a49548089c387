"""chainrule.scalar stands alone: standard library only, and the promised exports."""

import ast
import sys
from pathlib import Path

import chainrule.scalar as scalar

PACKAGE = Path(scalar.__file__).resolve().parent


def test_imports_only_the_standard_library_and_itself():
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                own = name == "chainrule.scalar" or name.startswith("chainrule.scalar.")
                assert own or name.split(".")[0] in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_exports():
    for name in ["Scalar", "topological_sort", "backpropagate", "from_op", "add_n"]:
        assert name in scalar.__all__ and hasattr(scalar, name)
    for module in ["nn", "optim", "losses", "datasets", "train", "graph"]:
        assert getattr(scalar, module).__name__ == f"chainrule.scalar.{module}"
