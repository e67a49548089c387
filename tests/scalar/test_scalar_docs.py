"""docs/scalar.md's code runs, in order, and every docstring example in chainrule.scalar holds."""

import doctest
import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "scalar.md"
MODULES = ["scalar", "graph", "nn", "optim", "losses", "datasets", "train"]


def test_tutorial_code_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 8
    namespace: dict = {"__name__": "scalar_tutorial"}
    for k, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} block {k}", "exec"), namespace)
    out = capsys.readouterr().out
    assert re.search(r"Scalar\(name=y, unique_id=\d+, data=13\.0000, derivative=None\)", out)
    assert re.search(r"Scalar\(name=x1, unique_id=\d+, data=1\.0000, derivative=3\.0\)", out)
    assert out.count("('layer_") == 13


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module("chainrule.scalar" if name == "__init__" else f"chainrule.scalar.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
