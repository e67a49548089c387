"""The explain report in notebooks: ``_repr_html_`` (tables, rules as MathJax math, ✓/✗) and
``_repr_markdown_``; the text repr is unchanged."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest

import chainrule as cr
from chainrule import Function, examples
from chainrule.explain._math import to_tex


class Tables(HTMLParser):
    """The text of every table cell, per table (checks that the HTML nests properly)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.stack: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "meta"):
            self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self.cell or []))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def parse(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    return parser.tables


def test_html_report_tables_math_and_checks(torch):
    report = cr.explain(examples.two_layer(), numerical_check=True)
    html = report._repr_html_()
    forward, steps, grads = parse(html)
    assert [row[0] for row in forward[1:]] == [r.name for r in report.forward]
    assert forward[0] == ["node", "op", "shape", "value"]
    assert steps[0][:4] == ["#", "gradient", "op", "rule"] and steps[0][-1] == "check"
    assert len(steps) == 1 + len(report.steps)
    assert all(row[-1] == "✓" for row in steps[1:])
    assert "✓ Every step agrees with central differences" in html
    for row, step in zip(steps[1:], report.steps):  # each rule is inline math, its text the tooltip
        assert row[3].startswith("\\(") and row[3].endswith("\\)")
        assert row[3][2:-2] == "\\displaystyle " + to_tex(step.rule, {r.name for r in report.forward})
    assert "\\frac{\\partial L}{\\partial \\mathit{W1}}" in html
    assert f'title="{report.step("W1").rule}"' in html
    # the numbers in the gradient table are torch's
    t = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in {"W1": [[0.1, 0.4], [0.8, 0.6]], "W2": [[0.3], [0.9]]}.items()
    }
    a2 = ((torch.tensor([[0.35, 0.9]], dtype=torch.float64) @ t["W1"]).sigmoid() @ t["W2"]).sigmoid()
    (0.5 * ((a2 - 0.5) ** 2).sum()).backward()
    rows = {row[0]: row[2] for row in grads[1:]}
    assert rows["W2"] == "[[" + "], [".join(f"{v:.6g}" for v in t["W2"].grad.numpy().ravel()) + "]]"


def test_failed_check_shows_a_cross():
    class BadSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return 3 * self.inputs[0] * gy  # wrong on purpose: 3x instead of 2x

    x = cr.tensor(1.5, dtype="float64", requires_grad=True, name="x")
    report = cr.explain(BadSquare()(x), numerical_check=True)
    html = report._repr_html_()
    assert report.ok is False
    assert '<span class="bad">✗</span>' in html and "✗ Some steps disagree" in html


def test_html_escapes_names_and_values():
    x = cr.tensor(2.0, requires_grad=True, name="<x&y>")
    html = cr.explain(x * 3)._repr_html_()
    assert "<x&y>" not in html and "&lt;x&amp;y&gt;" in html
    parse(html)


def test_markdown_repr_has_the_rules_as_math_and_text_is_unchanged():
    report = cr.explain(examples.chain())
    md = report._repr_markdown_()
    assert md.startswith("# Backpropagation through `y`")
    assert "$\\frac{\\partial y}{\\partial x} = \\frac{\\partial y}{\\partial a} \\cdot  2\\cdot x$" in md
    assert "`dy/dx = dy/da · 2·x`" in report.to_markdown()  # the plain Markdown keeps the text rule
    assert repr(report) == "<Report of y: 4 nodes, 3 backward steps>"
    assert str(report).startswith("Backpropagation through y (tensor engine, 3 backward steps)")


def test_scalar_engine_report_renders_too():
    html = cr.explain(examples.scalar(), numerical_check=True)._repr_html_()
    tables = parse(html)
    assert tables[1][0][4] == "local"  # the scalar engine's stored local derivatives
    assert "\\(" in html


DL = r"\frac{\partial L}{\partial "


@pytest.mark.parametrize(
    ("rule", "tex"),
    [
        ("dL/dZ2 = dL/dA2 · σ(Z2)(1−σ(Z2))",
         DL + r"\mathit{Z2}} = " + DL + r"\mathit{A2}} \cdot  \sigma (\mathit{Z2})(1-\sigma (\mathit{Z2}))"),
        ("dL/dW2 = A1ᵀ · dL/dZ2", DL + r"\mathit{W2}} = \mathit{A1}^{\top} \cdot  " + DL + r"\mathit{Z2}}"),
        ("dL/dx = dL/dy · x^(−3/2)", DL + "x} = " + DL + r"y} \cdot  x^{-3/2}"),
        ("dL/dx = dL/dy · 1[x > 0]", DL + "x} = " + DL + r"y} \cdot  \mathbf{1}[x > 0]"),
        ("dL/dx = dL/dy summed over the batch", DL + "x} = " + DL + r"y}\text{ summed over the batch}"),
        ("dL/dx_1 = dL/dy · tanh²(x_1)",
         DL + r"\mathit{x\_1}} = " + DL + r"y} \cdot  \operatorname{tanh}^{2}(\mathit{x\_1})"),
    ],
)  # fmt: skip
def test_rules_as_tex(rule, tex):
    assert to_tex(rule, {"L", "Z2", "A2", "A1", "W2", "x", "y", "x_1"}) == tex


def test_every_rule_becomes_balanced_tex():
    from chainrule.explain import rules

    names = {"L", "x", "y", "a", "b", "w"}
    for kind in [*rules._ELEMENTWISE_UNARY, *rules._BINARY, *rules._VARIADIC, "PowScalar"]:
        for position in range(2 if kind in rules._BINARY else 1):
            text = rules.rule(
                kind, position, "y", ["x", "b"] if position == 0 else ["a", "x"], "L", {"c": 0.5}
            )
            tex = to_tex(text, names | {"a", "b"})
            assert tex.count("{") == tex.count("}"), (kind, tex)
            assert not re.search(r"[·σ−ᵀ²√]", tex), (kind, tex)  # every symbol turned into LaTeX
            assert np.all([c.isascii() for c in tex]), (kind, tex)
