"""docs/cnn.md runs top to bottom (training to >90% test accuracy); chainrule.nn's docstring examples hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import chainrule.nn

DOC = Path(__file__).resolve().parents[2] / "docs" / "cnn.md"
MODULES = ["chainrule.nn"] + [
    m.name
    for m in pkgutil.walk_packages(chainrule.nn.__path__, "chainrule.nn.")
    if not m.name.endswith("__main__")
]


def test_cnn_tutorial_runs(capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "cnn_tutorial"}
    for k, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} block {k}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(1438, 1, 8, 8) float32 int64" in out and "(5, 10)" in out
    accuracies = [float(a) for a in re.findall(r"test accuracy (\d\.\d+)", out)]
    assert len(accuracies) == 5 and accuracies[-1] > 0.9


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
