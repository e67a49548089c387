"""The explain report: forward table, backward steps, final gradients; as text, Markdown or a dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.explain._format import fmt_array, fmt_number, fmt_shape, md_table, table

CHECK, CROSS = "✓", "✗"


@dataclass
class ForwardRow:
    """One node of the forward pass: ``name = op(inputs)``, its shape, dtype and value."""

    name: str
    op: str  # the op's name, "leaf" (requires grad) or "const"
    inputs: list[str]
    shape: tuple[int, ...]
    dtype: str
    value: np.ndarray
    consts: dict[str, Any] = field(default_factory=dict)

    @property
    def expression(self) -> str:
        if not self.inputs:
            return self.op
        shown = ("c", "slope", "alpha", "beta", "n", "target")
        extra = [f"{k}={_const(v)}" for k, v in self.consts.items() if k in shown]
        return f"{self.op}({', '.join(self.inputs + extra)})"


@dataclass
class Step:
    """One backward step: op ``op`` (output ``output``) sends ``grad`` to its input ``node``.

    ``upstream`` is dL/d(output) (a tuple of arrays for ops with several outputs); ``grad`` is this op's
    contribution to dL/d(node) and ``total`` the node's full gradient once every consumer has contributed
    (set on the node's last step, None before). ``local`` is the scalar engine's stored local derivative.
    With ``numerical_check=True``, ``numerical`` holds central differences of the output w.r.t. the node
    (NaN where unchecked) and ``ok`` whether they match ``total``.
    """

    index: int
    node: str
    op: str
    output: str
    position: int
    rule: str
    upstream: Any
    grad: np.ndarray
    total: np.ndarray | None = None
    local: float | None = None
    numerical: np.ndarray | None = None
    ok: bool | None = None

    @property
    def complete(self) -> bool:
        """Whether this is the node's last contribution (``total`` is then its full gradient)."""
        return self.total is not None

    @property
    def check_mark(self) -> str:
        return "" if self.ok is None else (CHECK if self.ok else CROSS)


@dataclass
class Report:
    """What ``chainrule.explain`` returns; ``str(report)`` for a terminal, ``to_markdown()`` for a document.

    ``forward``: ForwardRow per node in forward order; ``steps``: Step per edge in backward order;
    ``grads``: name → dL/d(node) for every node that gets a gradient (the output's is the seed);
    ``values``: name → forward value; ``numerical``: name → numerical gradient (when checked).
    """

    output: str
    engine: str
    forward: list[ForwardRow]
    steps: list[Step]
    grads: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    seed: np.ndarray
    numerical_check: bool = False
    numerical: dict[str, np.ndarray] = field(default_factory=dict)
    max_elements: int = 8
    precision: int = 6

    # ------------------------------------------------------------------ queries
    @property
    def ok(self) -> bool | None:
        """True when every numerical check passed, False if one failed, None without checks."""
        marks = [s.ok for s in self.steps if s.ok is not None]
        return None if not marks else all(marks)

    def steps_for(self, name: str) -> list[Step]:
        """The steps that send gradient to node ``name``."""
        return [s for s in self.steps if s.node == name]

    def step(self, node: str, op: str | None = None) -> Step:
        """The (last) step sending gradient to ``node`` (through ``op``, if given)."""
        found = [s for s in self.steps if s.node == node and (op is None or s.op == op)]
        if not found:
            raise KeyError(
                f"no backward step for {node!r}; nodes with steps: {sorted({s.node for s in self.steps})}"
            )
        return found[-1]

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (JSON-serialisable)."""

        def arr(a: Any) -> Any:
            if a is None:
                return None
            if isinstance(a, tuple):
                return [arr(x) for x in a]
            return np.asarray(a).tolist()

        return {
            "output": self.output,
            "engine": self.engine,
            "forward": [
                {"name": r.name, "op": r.op, "inputs": r.inputs, "shape": list(r.shape), "dtype": r.dtype,
                 "value": arr(r.value)}
                for r in self.forward
            ],
            "steps": [
                {"index": s.index, "node": s.node, "op": s.op, "output": s.output, "rule": s.rule,
                 "upstream": arr(s.upstream), "grad": arr(s.grad), "total": arr(s.total), "local": s.local,
                 "numerical": arr(s.numerical), "ok": s.ok}
                for s in self.steps
            ],
            "grads": {k: arr(v) for k, v in self.grads.items()},
            "ok": self.ok,
        }  # fmt: skip

    # ------------------------------------------------------------------ text
    def _counts(self) -> dict[str, int]:
        """How many steps send gradient to each node (more than one: the contributions add up)."""
        counts: dict[str, int] = {}
        for s in self.steps:
            counts[s.node] = counts.get(s.node, 0) + 1
        return counts

    def _f(self, a: Any) -> str:
        return fmt_array(a, self.max_elements, self.precision)

    def _local(self, value: float) -> str:
        return fmt_number(value, self.precision)

    def _seed_text(self) -> str:
        L = self.output
        if self.seed.size == 1 and float(np.asarray(self.seed).reshape(-1)[0]) == 1.0:
            return f"d{L}/d{L} = 1"
        return f"d{L}/d{L} = {self._f(self.seed)} (the output is not a single number: this is the seed)"

    def _forward_rows(self) -> list[list[str]]:
        rows = [["node", "op", "shape", "value"]]
        for r in self.forward:
            rows.append([r.name, r.expression, fmt_shape(r.shape), self._f(r.value)])
        return rows

    def _grad_rows(self) -> list[list[str]]:
        rows = [["node", "shape", f"d{self.output}/d(node)"]]
        shapes = {r.name: r.shape for r in self.forward}
        for name, g in self.grads.items():
            rows.append([name, fmt_shape(shapes.get(name, np.shape(g))), self._f(g)])
        return rows

    def __str__(self) -> str:
        L = self.output
        out = [
            f"Backpropagation through {L} ({self.engine} engine, {_count(len(self.steps), 'backward step')})",
            "",
        ]
        out += ["Forward pass", table(self._forward_rows()), ""]
        out += [f"Backward pass, newest op first (seed {self._seed_text()})"]
        width = len(f"[{len(self.steps)}]") + 1
        counts = self._counts()
        for s in self.steps:
            head = f"[{s.index}]".ljust(width) + f"d{L}/d{s.node} via {s.op} (output {s.output})"
            out.append(head)
            pad = " " * width
            lines = [("rule", s.rule)]
            if s.local is not None:
                lines.append(("local", f"∂{s.output}/∂{s.node} = {self._local(s.local)}"))
            lines.append(("upstream", f"d{L}/d{s.output} = {self._f(s.upstream)}"))
            partial = counts[s.node] > 1
            lines.append(("result", f"d{L}/d{s.node} {'+=' if partial else '='} {self._f(s.grad)}"))
            if s.complete and partial:
                lines.append(("total", f"d{L}/d{s.node} = {self._f(s.total)}"))
            if s.numerical is not None:
                lines.append(("numerical", f"{self._f(s.numerical)}  {s.check_mark}"))
            label_w = len("numerical") if self.numerical_check else len("upstream")
            out += [f"{pad}{k.ljust(label_w)}  {v}" for k, v in lines]
        if not self.steps:
            out.append("  (no backward steps: no op lies between the output and a leaf that requires grad)")
        out += ["", "Gradients", table(self._grad_rows())]
        if self.numerical_check:
            verdict = {True: f"{CHECK} every step agrees with central differences (float64)",
                       False: f"{CROSS} some steps disagree with central differences: see the ✗ marks above",
                       None: "no numerical checks could be run"}[self.ok]  # fmt: skip
            out += ["", verdict]
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"<Report of {self.output}: {len(self.forward)} nodes, {len(self.steps)} backward steps>"

    # ------------------------------------------------------------------ notebooks
    def to_html(self) -> str:
        """An HTML fragment: the tables, each rule as ``\\( … \\)`` math for MathJax, ✓/✗ marks."""
        from chainrule.explain._html import report_html

        return report_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        """Markdown with the rules as ``$…$`` math (Jupyter falls back to it where HTML is not shown)."""
        from chainrule.explain._html import report_markdown

        return report_markdown(self)

    # ------------------------------------------------------------------ markdown
    def to_markdown(self) -> str:
        """A Markdown document: forward table, backward table with each rule, gradient table."""
        L = self.output
        nodes, steps = _count(len(self.forward), "node"), _count(len(self.steps), "backward step")
        summary = f"{self.engine.capitalize()} engine; {nodes}, {steps}."
        doc = [f"# Backpropagation through `{L}`", "", summary, "", "## Forward pass", ""]
        rows = [[f"`{r[0]}`", f"`{r[1]}`", r[2], r[3]] for r in self._forward_rows()[1:]]
        doc += [md_table([["node", "op", "shape", "value"], *rows]), ""]
        doc += ["## Backward pass", "",
                f"Newest op first, starting from the seed `{self._seed_text()}`. Each step multiplies"
                " the upstream gradient by the op's local derivative (the chain rule); a node used "
                "several times adds up the contributions of every use.", ""]  # fmt: skip
        local = any(s.local is not None for s in self.steps)  # the scalar engine's stored derivatives
        head = ["#", "gradient", "op", "rule", *(["local"] if local else []), "upstream", "result"]
        if self.numerical_check:
            head.append("numerical")
        body = []
        counts = self._counts()
        for s in self.steps:
            result = self._f(s.grad)
            if s.complete and counts[s.node] > 1:
                result += f" (total {self._f(s.total)})"
            row = [str(s.index), f"d{L}/d{s.node}", f"{s.op} → `{s.output}`", f"`{s.rule}`"]
            if local:
                row.append("—" if s.local is None else f"∂{s.output}/∂{s.node} = {self._local(s.local)}")
            row += [self._f(s.upstream), result]
            if self.numerical_check:
                row.append("—" if s.numerical is None else f"{self._f(s.numerical)} {s.check_mark}")
            body.append(row)
        doc += [
            md_table([head, *body])
            if body
            else "_No backward steps: no op lies between the output and a leaf that requires grad._",
            "",
        ]
        doc += ["## Gradients", ""]
        grows = [[f"`{r[0]}`", r[1], r[2]] for r in self._grad_rows()[1:]]
        doc += [md_table([["node", "shape", f"d{L}/d(node)"], *grows]), ""]
        if self.numerical_check:
            doc += [
                {True: f"{CHECK} Every step agrees with central differences (float64).",
                 False: f"{CROSS} Some steps disagree with central differences.",
                 None: "No numerical checks could be run."}[self.ok], ""]  # fmt: skip
        return "\n".join(doc)


def _const(v: Any) -> str:
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return fmt_number(v, 6)
    return str(v)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
