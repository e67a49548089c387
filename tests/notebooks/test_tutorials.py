"""The tutorials in docs/tutorials run top to bottom in a real kernel and show the seeds' numbers.

Expected values come from the seed notebooks' printed outputs (000-003) and from closed forms or an
independent NumPy computation, never from chainrule itself. After a notebook runs, a probe cell reads
its final variables in the same kernel, so the numbers are checked exactly rather than as printed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import nbformat
import numpy as np
import pytest
from nbkernel import TUTORIALS, Kernel, outputs_of

NOTEBOOKS = sorted(p.stem for p in TUTORIALS.glob("*.ipynb"))
SEED_GRAD = 3.297442541400256  # printed by seeds 001 and 003: dy/dx of (e^(x²))² at 0.5, = 2·e^0.5


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _seed_002_by_hand() -> dict[str, np.ndarray]:
    """Seed 002's network and hand formulas, computed here independently of the notebook."""
    a0 = np.array([[0.35, 0.9]])
    w1 = np.array([[0.1, 0.4], [0.8, 0.6]])
    w2 = np.array([[0.3], [0.9]])
    z1 = a0 @ w1
    a1 = _sigmoid(z1)
    z2 = a1 @ w2
    a2 = _sigmoid(z2)
    d_z2 = a2 * (1 - a2) * (a2 - 0.5)
    d_z1 = (d_z2 @ w2.T) * a1 * (1 - a1)
    return {"L": 0.5 * (a2 - 0.5) ** 2, "d_W1": a0.T @ d_z1, "d_W2": a1.T @ d_z2}


# Per notebook: expressions evaluated in its namespace after it ran, as JSON.
PROBES: dict[str, str] = {
    "01_scalar_engine": "{'x1': x1.derivative, 'loss': history.loss, 'n_params': len(list(mlp.parameters())),"
    " 'grads': [p.derivative for p in mlp.parameters()]}",
    # The notebook's own step-9 Square/Exp/square/exp, on a fresh chain (its last x went to explain).
    "02_dezero_steps": "{'grad': float((lambda v: (square(exp(square(v))).backward(), v.grad)[1])"
    "(Variable(np.array(0.5))).data)}",
    "03_two_layer_by_hand": "{'L': float(L.data), 'W1': cW1.grad.data.tolist(), 'W2': cW2.grad.data.tolist(),"
    " 'report_W1': report.grads['W1'].tolist(), 'report_ok': report.ok}",
    "04_variable_function_numerical_diff": "{'grad': float((lambda v: (f(v).backward(), v.grad)[1])"
    "(Variable(np.array(0.5))).data), 'dy': float(dy)}",
    "05_cnn_digits": "{'test_acc': history['test_acc'], 'train_loss': history['train_loss']}",
    "06_custom_function": "{'x': x.data.tolist(), 'grad': x.grad.data.tolist()}",
}

# Text each notebook must print (the seeds' own outputs where the cell is the seed's).
PRINTED: dict[str, list[str]] = {
    "01_scalar_engine": [
        "data=13.0000, derivative=None",  # y = 3·1 + 5·2, before backward
        "name=x1, unique_id=",
        "data=1.0000, derivative=3.0)",
        "data=2.0000, derivative=5.0)",
        "('layer_hidden_output.bias_0', Scalar(name=bias_0",
    ],
    "02_dezero_steps": [
        "1.0\n",
        "100\n",
        "1.648721270700128\n",  # e^0.5, seed 001 step 3
        "x2: 0.9999999999998899\n",  # seed 001 step 4
        "3.2974426293330694\n",
        "tensor(2.5681",  # seed 001 step 7: dy/db = 2b = 2·e^0.25 = 2.568050833375483
        "tensor(3.2974",
        "Ran 3 tests",
    ],
    "03_two_layer_by_hand": ["hand == PyTorch == chainrule"],
    "04_variable_function_numerical_diff": [
        "4.000000000115023\n",  # seed 003
        "3.297442541350115\n",  # seed 003
        "True",
    ],
    "05_cnn_digits": ["(1438, 1, 8, 8) float32 int64"],
    "06_custom_function": ["first and second derivatives agree"],
}


def _run(kernel: Kernel, name: str) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    nb = nbformat.read(TUTORIALS / f"{name}.ipynb", as_version=4)
    probe = nbformat.v4.new_code_cell(f"import json as _json\nprint(_json.dumps({PROBES[name]}))")
    nb.cells.append(probe)
    kernel.run(nb)
    nb.cells.pop()
    text, _ = outputs_of(probe)
    return nb, json.loads(text)


def test_committed_notebooks_have_no_outputs() -> None:
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS
    for name in NOTEBOOKS:
        nb = nbformat.read(TUTORIALS / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", name
        for k, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} cell {k} has outputs"


def test_every_tutorial_has_a_probe() -> None:
    assert set(NOTEBOOKS) == set(PROBES) == set(PRINTED)


def test_kernel_is_this_venv(kernel: Kernel) -> None:
    import sys

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    kernel.run(nb)
    assert outputs_of(nb.cells[0])[0].strip() == sys.executable


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_runs_and_shows_its_numbers(kernel: Kernel, name: str) -> None:
    nb, probe = _run(kernel, name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = "".join(outputs_of(c)[0] for c in code)
    for expected in PRINTED[name]:
        assert expected in printed, f"{name}: {expected!r} not in the outputs"
    # Every tutorial shows a graph picture and an explain report inline.
    mimes = [set(outputs_of(c)[1]) for c in code]
    assert any("image/svg+xml" in m for m in mimes), f"{name}: no graph drawn"
    assert any("text/html" in m for m in mimes), f"{name}: no HTML report"
    CHECKS[name](probe, printed)


def _check_01(probe: dict[str, Any], printed: str) -> None:
    assert probe["x1"] is None  # the MLP's inputs were not marked requires_grad_()
    assert probe["n_params"] == 13 and all(g is not None for g in probe["grads"])
    ids = [int(m) for m in re.findall(r"Scalar\(name=y, unique_id=(\d+), data=13\.0000", printed)]
    x1_id = int(re.search(r"Scalar\(name=x1, unique_id=(\d+), data=1\.0000, derivative=3\.0\)", printed)[1])
    assert set(ids) == {x1_id + 6}  # as in the seed: x1 is 68, y is 74
    assert probe["loss"][-1] < 0.75 * probe["loss"][0]  # training on XOR makes progress


def _check_02(probe: dict[str, Any], printed: str) -> None:
    assert abs(probe["grad"] - SEED_GRAD) < 1e-12
    assert abs(SEED_GRAD - 2 * math.exp(0.5)) < 1e-15
    assert abs(2 * math.exp(0.25) - 2.568050833375483) < 1e-15  # seed 001 step 7 printed dy/db = 2b


def _check_03(probe: dict[str, Any], printed: str) -> None:
    hand = _seed_002_by_hand()
    assert abs(probe["L"] - hand["L"].item()) < 1e-15
    for key, got in (("d_W1", probe["W1"]), ("d_W2", probe["W2"]), ("d_W1", probe["report_W1"])):
        np.testing.assert_allclose(np.array(got), hand[key], rtol=0, atol=1e-12)
    assert probe["report_ok"] is True
    assert "0.0181" in printed  # the loss, printed by the seed's PyTorch cell


def _check_04(probe: dict[str, Any], printed: str) -> None:
    assert abs(probe["grad"] - SEED_GRAD) < 1e-12
    assert abs(probe["dy"] - SEED_GRAD) < 1e-6


def _check_05(probe: dict[str, Any], printed: str) -> None:
    assert probe["test_acc"][-1] > 0.85, probe  # a CNN on the digits; PyTorch gets ~0.9 after 4 epochs too
    assert probe["train_loss"][-1] < probe["train_loss"][0]


def _check_06(probe: dict[str, Any], printed: str) -> None:
    x = np.array(probe["x"])
    np.testing.assert_allclose(probe["grad"], 1 / (1 + np.exp(-x)), rtol=1e-12)  # softplus' = sigmoid


CHECKS = {
    "01_scalar_engine": _check_01,
    "02_dezero_steps": _check_02,
    "03_two_layer_by_hand": _check_03,
    "04_variable_function_numerical_diff": _check_04,
    "05_cnn_digits": _check_05,
    "06_custom_function": _check_06,
}


def test_every_tutorial_is_in_the_site_nav_and_the_index() -> None:
    docs = TUTORIALS.parent
    nav = (docs.parent / "mkdocs.yml").read_text(encoding="utf-8")
    index = (docs / "index.md").read_text(encoding="utf-8")
    for name in NOTEBOOKS:
        assert f"tutorials/{name}.ipynb" in nav, f"{name} missing from mkdocs.yml's nav"
        assert f"(tutorials/{name}.ipynb)" in index, f"{name} missing from docs/index.md"
