"""``chainrule explain`` and ``chainrule graph``: reports, Markdown, drawings and their error paths."""

from __future__ import annotations

import ast
import math
import re
import shutil
from xml.etree import ElementTree

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


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
    (["--example", "chain", "--markdown", "r" * 1800 + ".md"], ["File name too long", "characters"]),
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
    (["--example", "chain", "--out", "g" * 1800 + ".dot"], ["File name too long"]),
    (["--example", "chain", "--out", "g.svg", "--max-nodes", "0"], ["--max-nodes", "'0'"]),
]


def test_graph_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    user_errors(GRAPH_ERRORS, cli_many([["graph", *args] for args, _ in GRAPH_ERRORS]))
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


# ------------------------------------------------------------------------------ --check, kinks and --expr
def _all_gradients(text: str) -> dict[str, np.ndarray]:
    """The final 'Gradients' table of a text report: node -> array (any shape)."""
    table = text.split("\nGradients\n", 1)[1].split("\n\n", 1)[0]
    out = {}
    for line in table.splitlines()[2:]:
        match = re.match(r"^\s*(\S+)\s+(\(.*?\))\s+(.*)$", line)
        if match:
            out[match.group(1)] = np.array(ast.literal_eval(match.group(3).strip()), dtype=float)
    return out


def test_check_exits_1_when_a_step_disagrees_and_names_the_kink(cli, torch):
    result = cli("explain", "--expr", "relu(x) + abs(z) + max(a, b)", "--check",
                 "--set", "x=0", "--set", "z=0", "--set", "a=2", "--set", "b=2")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "✗" in result.stdout and result.stderr == ""
    notes = result.stdout.split("\nNotes\n", 1)[1]
    assert "ReLU(x): relu at 0, a kink" in notes
    assert "Abs(z): abs at 0, a kink" in notes
    assert "Maximum(a, b): max of two equal values, a kink" in notes
    x, z, a, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.0, 0.0, 2.0, 2.0))
    (torch.relu(x) + torch.abs(z) + torch.maximum(a, b)).backward()
    grads = _gradients(result.stdout)
    for name, leaf in (("x", x), ("z", z), ("a", a), ("b", b)):  # torch's conventions at the kinks
        assert grads[name] == leaf.grad.item(), (name, grads)


def test_check_exits_0_when_every_step_agrees_and_notes_non_finite_values(cli):
    fine = cli("explain", "--expr", "relu(x)", "--set", "x=0.5", "--check")
    assert fine.returncode == 0 and "Notes" not in fine.stdout
    result = cli("explain", "--expr", "log(q) * w", "--set", "q=0", "--set", "w=2")
    assert result.returncode == 0, result.stderr  # no --check: nothing to disagree with
    notes = result.stdout.split("\nNotes\n", 1)[1]
    assert "Log(q) is -inf" in notes and "df/dq is inf" in notes


def test_markdown_report_carries_the_notes(cli, tmp_path):
    result = cli("explain", "--expr", "relu(z)", "--set", "z=0", "--check", "--markdown", "r.md")
    assert result.returncode == 1
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "## Notes" in text and "relu at 0" in text


def test_two_layer_network_from_the_command_line_matches_torch(cli, torch):
    """The hand derivation, as matrices: f = sigmoid(W2 @ sigmoid(W1 @ x + b1) + b2)."""
    values = {
        "W1": [[0.1, 0.8], [0.4, 0.6]],
        "x": [0.35, 0.9],
        "b1": [0.0, 0.1],
        "W2": [[0.3, 0.9]],
        "b2": [-0.2],
    }
    sets = [arg for name, v in values.items() for arg in ("--set", f"{name}={v}")]
    result = cli("explain", "--expr", "sigmoid(W2 @ sigmoid(W1 @ x + b1) + b2)", *sets, "--check")
    assert result.returncode == 0, result.stderr
    assert "✓ every step agrees" in result.stdout
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    f = torch.sigmoid(leaves["W2"] @ torch.sigmoid(leaves["W1"] @ leaves["x"] + leaves["b1"]) + leaves["b2"])
    f.sum().backward()
    grads = _all_gradients(result.stdout)
    assert "f" in grads and "y" not in grads  # the output is called f
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), rtol=1e-5, err_msg=name)


EXPRESSIONS = [
    ("x % y", {"x": 5.5, "y": 2.0}),
    ("x % y", {"x": -5.5, "y": 2.0}),
    ("x % y", {"x": 5.5, "y": -2.0}),
    ("pi * x + e", {"x": 0.3}),
    ("abs(x) * sqrt(y)", {"x": -1.5, "y": 3.0}),
    ("max(x, y) - min(x, y)", {"x": 0.2, "y": 0.7}),
    ("pow(x, y) + pow(x, 2)", {"x": 1.3, "y": 2.5}),
    ("softplus(x) + softplus(-x)", {"x": 0.8}),
    ("sum(W @ v) + mean(W * W)", {"W": [[1.0, -2.0], [0.5, 3.0]], "v": [0.3, -0.7]}),
    ("max(v) + min(v) + sum(v % 0.5)", {"v": [0.3, -0.7, 1.9]}),
    ("max(v, 0.5) + pow(2, x)", {"v": [0.3, 0.9], "x": 1.5}),
]


def _torch_env(torch):
    def to_max(*a):
        return (
            torch.amax(a[0])
            if len(a) == 1
            else torch.maximum(*(torch.as_tensor(x, dtype=torch.float64) for x in a))
        )

    def to_min(*a):
        return (
            torch.amin(a[0])
            if len(a) == 1
            else torch.minimum(*(torch.as_tensor(x, dtype=torch.float64) for x in a))
        )

    return {"sigmoid": torch.sigmoid, "abs": torch.abs, "sqrt": torch.sqrt, "max": to_max, "min": to_min,
            "pow": torch.pow, "softplus": torch.nn.functional.softplus, "sum": torch.sum, "mean": torch.mean,
            "pi": math.pi, "e": math.e}  # fmt: skip


@pytest.mark.parametrize(("expr", "values"), EXPRESSIONS)
def test_new_expression_pieces_match_torch(torch, expr, values):
    import chainrule as cr
    from chainrule import examples

    f = examples.expression(expr, values)
    report = cr.explain(f, numerical_check=True)
    assert report.ok is True and f.name == "f", str(report)
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    # Python's % on torch tensors is torch.remainder (the sign of the divisor), as in chainrule.
    out = eval(expr, {**_torch_env(torch), **leaves})  # the test's own trusted formulas
    out.sum().backward()
    np.testing.assert_allclose(np.asarray(f.data), out.detach().numpy(), rtol=1e-12)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(report.grads[name], leaf.grad.numpy(), rtol=1e-10, err_msg=name)


EXPR_ERRORS = [
    (["--expr", "x^2", "--set", "x=1"], ["use ** for powers"]),
    (["--expr", "x // 2", "--set", "x=1"], ["//"]),
    (["--expr", "W @ v", "--set", "W=[[1,2],[3]]", "--set", "v=[1,2]"], ["same length", "W=[[1,2],[3]]"]),
    (["--expr", "W @ v", "--set", "W=[[1,2],[3,4]]", "--set", "v=[1,2,3]"], ["W @ v", "(2, 2)", "(3,)"]),
    (["--expr", "x @ 2", "--set", "x=[1,2]"], ["@ multiplies matrices"]),
    (["--expr", "x*2", "--set", "x=[1e400]"], ["finite", "x=[1e400]"]),
    (["--expr", "x*2", "--set", "x=[__import__]"], ["x=[__import__]"]),
    (["--expr", "x*2", "--set", "x=[]"], ["1 to 10000 numbers"]),
    (["--expr", "x*2", "--set", "x=" + "[" * 500 + "1" + "]" * 500], ["x="]),
    (["--expr", "x*pi", "--set", "x=1", "--set", "pi=3"], ["pi"]),
    (["--expr", "max(x, x, x)", "--set", "x=1"], ["max()", "1 or 2 arguments"]),
]


def test_expression_errors_are_one_line(cli_many, user_errors):
    user_errors(EXPR_ERRORS, cli_many([["explain", *args] for args, _ in EXPR_ERRORS]))


_FORMULAS = [
    "sigmoid(W @ v + b)",
    "sum(max(W @ v, b) * b) + mean(W % 0.7)",
    "softplus(min(W @ v)) + pow(abs(sum(b)) + 1, 0.5)",
]


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 4),
    m=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    formula=st.sampled_from(_FORMULAS),
)
def test_matrix_expressions_of_any_shape_match_torch(torch, n, m, seed, formula):
    """--set matrices and vectors of random shapes: values and gradients are torch's."""
    import chainrule as cr
    from chainrule import examples

    rng = np.random.default_rng(seed)
    values = {"W": rng.normal(size=(n, m)).round(3).tolist(), "v": rng.normal(size=m).round(3).tolist(),
              "b": rng.normal(size=n).round(3).tolist()}  # fmt: skip
    f = examples.expression(formula, {k: examples.parse_value(str(v)) for k, v in values.items()})
    report = cr.explain(f)
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    out = eval(formula, {**_torch_env(torch), **leaves})  # the test's own trusted formulas
    out.sum().backward()
    np.testing.assert_allclose(np.asarray(f.data), out.detach().numpy(), rtol=1e-12)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(report.grads[name], leaf.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
