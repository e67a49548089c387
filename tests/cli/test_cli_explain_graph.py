"""``chainrule explain`` and ``chainrule graph``: reports, Markdown, drawings and their error paths."""

from __future__ import annotations

import math
import re
import shutil
from xml.etree import ElementTree

import pytest


def _gradients(text: str) -> dict[str, float]:
    """The final 'Gradients' table of a text report: node -> value (scalars only)."""
    table = text.split("\nGradients\n", 1)[1]
    out = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "()":
            out[parts[0]] = float(parts[2])
    return out


def test_explain_expression_matches_torch(cli, torch):
    result = cli(
        "explain", "--expr", "sigmoid(w*x+b)", "--set", "w=2", "--set", "x=0.5", "--set", "b=-1", "--check"
    )
    assert result.returncode == 0, result.stderr
    w, x, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, 0.5, -1.0))
    torch.sigmoid(w * x + b).backward()
    grads = _gradients(result.stdout)
    for name, leaf in (("w", w), ("x", x), ("b", b)):
        assert math.isclose(grads[name], leaf.grad.item(), rel_tol=1e-5), (name, grads)
    assert "✗" not in result.stdout and "✓" in result.stdout  # --check compared every step numerically


def test_explain_chain_example(cli):
    result = cli("explain", "--example", "chain")
    assert result.returncode == 0, result.stderr
    x = 0.5
    assert math.isclose(_gradients(result.stdout)["x"], 4 * x * math.exp(2 * x * x), rel_tol=1e-5)


def test_explain_scalar_example(cli):
    result = cli("explain", "--example", "scalar")
    assert result.returncode == 0, result.stderr
    grads = _gradients(result.stdout)
    assert (grads["x1"], grads["x2"]) == (3.0, 5.0)  # y = 3*x1 + 5*x2
    assert "scalar engine" in result.stdout


def test_explain_two_layer_markdown(cli, tmp_path, torch):
    result = cli("explain", "--example", "two-layer", "--markdown", "report/two_layer.md")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "report" / "two_layer.md").read_text(encoding="utf-8")
    assert text.startswith("# ") and "| --- |" in text.replace("|---|", "| --- |")
    # dL/dW2 from PyTorch (seed 002's network) appears in the report, to the printed precision.
    a0 = torch.tensor([[0.35, 0.9]])
    w1 = torch.tensor([[0.1, 0.4], [0.8, 0.6]], requires_grad=True)
    w2 = torch.tensor([[0.3], [0.9]], requires_grad=True)
    (0.5 * (torch.sigmoid(torch.sigmoid(a0 @ w1) @ w2) - 0.5).pow(2).sum()).backward()
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]
    for expected in w2.grad.flatten().tolist() + w1.grad.flatten().tolist():
        assert any(math.isclose(n, expected, rel_tol=1e-5) for n in numbers), expected
    assert not list(tmp_path.glob("report/.*tmp*"))  # no temporary file left behind


EXPLAIN_ERRORS = [
    (["--expr", "sigmoid(w*x+b)", "--set", "w=2"], ["'x'", "'b'"]),  # unknown names
    (["--expr", "foo(x)", "--set", "x=1"], ["'foo'"]),
    (["--expr", "x+", "--set", "x=1"], ["'x+'"]),
    (["--expr", "x*2", "--set", "x2"], ["'x2'"]),  # bad --set syntax
    (["--expr", "x*2", "--set", "x=abc"], ["'x=abc'"]),
    (["--expr", "x*2", "--set", "x=1", "--set", "z=3"], ["z"]),  # a variable the expression lacks
    (["--expr", "x*2", "--set", "x=1", "--set", "x=2"], ["x"]),
    (["--example", "chain", "--set", "x=1"], ["--set"]),
    (["--example", "three-layer"], ["'three-layer'"]),
    ([], ["--example", "--expr"]),
    (["--example", "chain", "--expr", "x"], ["--expr"]),
    (["--example", "chain", "--markdown", "file.txt/report.md"], ["file.txt"]),
]


def test_explain_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    user_errors(EXPLAIN_ERRORS, cli_many([["explain", *args] for args, _ in EXPLAIN_ERRORS]))


def test_graph_dot(cli, tmp_path):
    result = cli("graph", "--example", "two-layer", "--out", "g/two_layer.dot")
    assert result.returncode == 0, result.stderr
    dot = (tmp_path / "g" / "two_layer.dot").read_text()
    assert dot.startswith("digraph")
    for name in ("W1", "W2", "Z1", "A2"):
        assert name in dot


def test_graph_expression(cli, tmp_path):
    result = cli("graph", "--expr", "tanh(a*b)", "--set", "a=1", "--set", "b=2", "--out", "e.dot")
    assert result.returncode == 0, result.stderr
    assert "digraph" in (tmp_path / "e.dot").read_text()


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_graph_pictures_with_pip_alone(cli, tmp_path, suffix):
    """No Graphviz here: grandalf + matplotlib draw the picture."""
    pytest.importorskip("grandalf")
    pytest.importorskip("matplotlib")
    result = cli("graph", "--example", "two-layer", "--out", f"two{suffix}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote two{suffix}\n"
    data = (tmp_path / f"two{suffix}").read_bytes()
    magic = {".svg": b"<?xml", ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF"}[suffix]
    assert data.startswith(magic)
    if suffix == ".svg":
        root = ElementTree.fromstring(data)
        texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
        assert {"W1", "W2", "A0", "L", "MatMul", "Sigmoid"} <= texts
    assert [p.name for p in tmp_path.iterdir()] == [f"two{suffix}"]  # no temporary file left


def test_graph_error_names_the_users_file(cli, user_error, tmp_path):
    """A graph too large to draw: the message names the target (not a temporary file), nothing written."""
    pytest.importorskip("grandalf")
    result = cli("graph", "--example", "two-layer", "--out", "big.png", "--max-nodes", "10")
    user_error(result, "'big.png'", "20 nodes", "--max-nodes 20")
    assert ".tmp" not in result.stderr and not list(tmp_path.iterdir())
    result = cli("graph", "--example", "two-layer", "--out", "big.png", "--max-nodes", "20")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "big.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graph_png_with_graphviz(cli, tmp_path):
    result = cli("graph", "--example", "chain", "--out", "g.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


GRAPH_ERRORS = [
    (["--example", "chain", "--out", "g.txt"], ["g.txt", ".dot"]),
    (["--example", "chain"], ["--out"]),
    (["--example", "chain", "--out", "file.txt/g.dot"], ["file.txt"]),
    (["--expr", "exp(q)", "--out", "g.dot"], ["'q'"]),
    (["--example", "chain", "--out", "g.svg", "--max-nodes", "0"], ["--max-nodes", "'0'"]),
]


def test_graph_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    user_errors(GRAPH_ERRORS, cli_many([["graph", *args] for args, _ in GRAPH_ERRORS]))
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
