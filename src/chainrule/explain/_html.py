"""The explain report as HTML for Jupyter: tables, each step's rule as math (``\\( … \\)`` for MathJax), ✓/✗.

Every cell is HTML-escaped; math stays inside ``\\( … \\)`` so MathJax (Jupyter, the docs site) typesets it,
and reads as LaTeX where MathJax is missing. Each rule's plain text is kept as the cell's tooltip.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from chainrule.explain._format import fmt_shape
from chainrule.explain._math import to_tex

if TYPE_CHECKING:
    from chainrule.explain.report import Report

_STYLE = (
    "<style>"
    ".cr-report table{border-collapse:collapse;margin:0.3em 0 0.8em 0;font-size:0.92em}"
    ".cr-report th,.cr-report td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}"
    ".cr-report th{background:#f4f4f4}.cr-report code{white-space:pre-wrap}"
    ".cr-report .ok{color:#1a7f37;font-weight:bold}.cr-report .bad{color:#cf222e;font-weight:bold}"
    "</style>"
)


def inline_math(tex: str, display: bool = False) -> str:
    """``\\( … \\)`` around escaped TeX; ``display`` sets fractions full size (still inline)."""
    return "\\(" + ("\\displaystyle " if display else "") + escape(tex, quote=False) + "\\)"


def _table(head: list[str], rows: list[list[str]]) -> str:
    """Cells are already HTML."""
    out = ["<table><thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _mark(ok: bool | None) -> str:
    if ok is None:
        return ""
    return '<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>'


def report_html(report: Report) -> str:
    """The whole report as one HTML fragment."""
    L = report.output
    names = {r.name for r in report.forward}
    nodes, steps = len(report.forward), len(report.steps)
    parts = [
        _STYLE,
        '<div class="cr-report">',
        f"<h3>Backpropagation through {_code(L)}</h3>",
        f"<p>{escape(report.engine.capitalize())} engine; {nodes} node{'s' * (nodes != 1)}, "
        f"{steps} backward step{'s' * (steps != 1)}.</p>",
        "<h4>Forward pass</h4>",
        _table(
            ["node", "op", "shape", "value"],
            [
                [_code(r.name), _code(r.expression), escape(fmt_shape(r.shape)), _code(report._f(r.value))]
                for r in report.forward
            ],
        ),
        "<h4>Backward pass</h4>",
        f"<p>Newest op first, from the seed {_code(report._seed_text())}. Each step multiplies the upstream "
        "gradient by the op's local derivative (the chain rule); a node used several times adds up the "
        "contributions of every use.</p>",
    ]
    if report.steps:
        parts.append(_steps_table(report, names))
    else:
        parts.append(
            "<p><em>No backward steps: no op lies between the output and a leaf that requires grad.</em></p>"
        )
    shapes = {r.name: r.shape for r in report.forward}
    parts += [
        "<h4>Gradients</h4>",
        _table(
            ["node", "shape", inline_math(rf"\partial {_n(L)} / \partial\,\text{{node}}")],
            [
                [_code(name), escape(fmt_shape(shapes.get(name, ()))), _code(report._f(g))]
                for name, g in report.grads.items()
            ],
        ),
    ]
    if report.numerical_check:
        verdict = {True: "✓ Every step agrees with central differences (float64).",
                   False: "✗ Some steps disagree with central differences.",
                   None: "No numerical checks could be run."}[report.ok]  # fmt: skip
        css = {True: "ok", False: "bad", None: ""}[report.ok]
        parts.append(f'<p class="{css}">{escape(verdict)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _n(name: str) -> str:
    escaped = name.replace("_", r"\_")
    return escaped if len(name) == 1 else rf"\mathit{{{escaped}}}"


def _steps_table(report: Report, names: set[str]) -> str:
    L = report.output
    local = any(s.local is not None for s in report.steps)
    head = ["#", "gradient", "op", "rule", *(["local"] if local else []), "upstream", "result"]
    if report.numerical_check:
        head += ["numerical", "check"]
    counts = report._counts()
    rows = []
    for s in report.steps:
        result = report._f(s.grad)
        if s.complete and counts[s.node] > 1:
            result += f" (total {report._f(s.total)})"
        rule = f'<span title="{escape(s.rule)}">{inline_math(to_tex(s.rule, names), display=True)}</span>'
        gradient = inline_math(rf"\frac{{\partial {_n(L)}}}{{\partial {_n(s.node)}}}", display=True)
        row = [str(s.index), gradient, f"{escape(s.op)} → {_code(s.output)}", rule]
        if local:
            row.append("—" if s.local is None else _code(f"∂{s.output}/∂{s.node} = {report._local(s.local)}"))
        row += [_code(report._f(s.upstream)), _code(result)]
        if report.numerical_check:
            row += ["—" if s.numerical is None else _code(report._f(s.numerical)), _mark(s.ok)]
        rows.append(row)
    return _table(head, rows)


def report_markdown(report: Report) -> str:
    """``to_markdown()`` with each rule as ``$…$`` math (for Jupyter's Markdown renderer)."""
    names = {r.name for r in report.forward}
    text = report.to_markdown()
    for s in report.steps:  # the rules appear as `code` in to_markdown(): swap each for its math
        text = text.replace(f"`{s.rule}`", "$" + to_tex(s.rule, names).replace("|", r"\vert ") + "$", 1)
    return text
