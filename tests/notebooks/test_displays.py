"""Rich displays in a real kernel: each cell's last expression produces the MIME types Jupyter shows.

A Graph shows as SVG, an explain Report as HTML (with a Markdown fallback), a Figure as PNG, and Tensor,
Scalar and printed reports keep their text.
"""

from __future__ import annotations

import nbformat
import pytest
from nbkernel import Kernel, outputs_of

SETUP = """\
import chainrule as cr
from chainrule import nn, viz
from chainrule.scalar import Scalar
from chainrule.scalar.train import History

x = cr.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
y = (x * x).sigmoid().sum()
s = Scalar(2.0, name="s").requires_grad_()
out = s * s + 1.0
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
model(cr.randn(5, 3)).sum().backward()
"""

# (cell source, MIME types its rich output must have). Each cell has exactly one rich output: a figure
# returned by a function must not also be shown a second time by the inline backend.
CELLS: list[tuple[str, set[str]]] = [
    ("viz.draw(y)", {"image/svg+xml"}),
    ("viz.draw(out)", {"image/svg+xml"}),
    ("cr.explain(out)", {"text/html", "text/markdown"}),
    ("cr.explain(y)", {"text/html", "text/markdown"}),
    ("viz.plot_history({'train_loss': [1.0, 0.6, 0.4], 'test_loss': [1.1, 0.8, 0.7]})", {"image/png"}),
    ("viz.plot_history(History(loss=[0.7, 0.5, 0.3], accuracy=[0.5, 0.7, 0.9]))", {"image/png"}),
    ("viz.plot_grad_flow(model)", {"image/png"}),
    ("y.backward()\nviz.draw(y)", {"image/svg+xml"}),  # still drawable after backward (explain is not)
]


def _notebook() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(src) for src, _ in CELLS]
    cells += [
        nbformat.v4.new_code_cell("x"),
        nbformat.v4.new_code_cell("s"),
        nbformat.v4.new_code_cell("print(cr.explain(out))"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
def executed(kernel: Kernel) -> nbformat.NotebookNode:
    return kernel.run(_notebook())


@pytest.mark.parametrize("k", range(len(CELLS)), ids=[src.replace("\n", "; ") for src, _ in CELLS])
def test_display_cell_mime_types(executed: nbformat.NotebookNode, k: int) -> None:
    source, expected = CELLS[k]
    cell = executed.cells[1 + k]
    rich = [o for o in cell.outputs if o["output_type"] in ("execute_result", "display_data")]
    assert len(rich) == 1, f"{source!r}: {len(rich)} rich outputs, {[sorted(o['data']) for o in rich]}"
    mimes = set(rich[0]["data"])
    assert expected <= mimes, f"{source!r} produced {sorted(mimes)}"
    assert "text/plain" in mimes  # a plain-text fallback for consoles
    if "image/svg+xml" in expected:
        svg = rich[0]["data"]["image/svg+xml"]
        assert "<svg" in svg and "</svg>" in svg
    if "text/html" in expected:
        html = rich[0]["data"]["text/html"]
        assert "<table" in html  # the forward and gradient tables
        assert "$" in html or "\\(" in html, "the rules are written as math for MathJax"


def test_text_reprs_stay_text(executed: nbformat.NotebookNode) -> None:
    tensor, scalar, printed = executed.cells[-3:]
    text, data = outputs_of(tensor)
    assert text.startswith("tensor([ 0.5") or text.startswith("tensor([0.5"), text
    text, _ = outputs_of(scalar)
    assert text.startswith("Scalar(name=s, unique_id=")
    text, data = outputs_of(printed)
    assert data == {} and "Backpropagation through" in text and "<table" not in text
