"""What a picture of the graph shows: boxes with their text and role, and the edges between them.

One model feeds every output (DOT text, the matplotlib picture), so they always agree. Values are
nodes with a name, shape and dtype, value and gradient; ops are nodes with their kind. Gradients come from
``chainrule.explain``'s backprop while the graph is intact (dL/d(node) of this output; nothing is
consumed, no ``.grad`` changes); once ``backward()`` has freed it, from each tensor's ``.grad`` (the
leaves', and those of intermediates that called ``retain_grad()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chainrule.autograd.skeleton import SHOWN_CONSTS

#: Role of a box -> fill colour (shared by DOT and matplotlib).
FILL = {"root": "#ffd27f", "leaf": "#cfe6ff", "const": "#eeeeee", "inner": "#ffffff", "op": "#f4f4f4"}
AFTER_BACKWARD = "after backward(): each grad is the tensor's .grad"
FREED_NOTE = "; 'value freed': released by backward(), as torch frees saved tensors"


@dataclass(eq=False)
class Box:
    """One drawn node: ``role`` is root/leaf/const/inner for values and op for ops; ``lines`` its text."""

    key: str
    role: str
    lines: list[str]
    freed: bool = False

    @property
    def is_op(self) -> bool:
        return self.role == "op"


@dataclass
class Picture:
    """Boxes in forward order and edges ``(from_key, to_key)``; ``notes`` are shown under the picture."""

    boxes: list[Box]
    edges: list[tuple[str, str]]
    engine: str
    notes: list[str] = field(default_factory=list)

    def box(self, key: str) -> Box:
        return next(b for b in self.boxes if b.key == key)


def build_picture(
    output: Any,
    show_values: bool = True,
    show_grads: bool = True,
    names: Mapping[Any, Any] | None = None,
    max_elements: int = 4,
    precision: int = 4,
) -> Picture:
    """The picture of the graph behind ``output`` (a Tensor or a scalar-engine Scalar)."""
    from chainrule.explain.graph import build_graph

    graph = build_graph(output, names)
    try:
        return _picture(graph, show_values, show_grads, max_elements, precision)
    finally:  # nodes and ops refer to each other: break the cycles so the tensors go at once, without the gc
        for op in graph.ops:
            op.inputs, op.outputs = [], []


def _picture(graph: Any, show_values: bool, show_grads: bool, max_elements: int, precision: int) -> Picture:
    from chainrule.explain._format import fmt_array, fmt_shape

    grads = _gradients(graph) if show_grads else {}
    ids = {id(n): f"v{i}" for i, n in enumerate(graph.nodes)}
    boxes, edges = [], []
    for n in graph.nodes:
        lines = [n.name]
        if graph.engine == "tensor":
            lines.append(f"{fmt_shape(n.shape)} {n.dtype}")
        if show_values:
            lines.append("value freed" if n.freed else "value " + fmt_array(n.value, max_elements, precision))
        if id(n) in grads:
            lines.append(f"grad {fmt_array(grads[id(n)], max_elements, precision)}")
        boxes.append(Box(ids[id(n)], _role(n, graph), lines, n.freed))
    for k, op in enumerate(graph.ops):
        lines = [op.kind]
        consts = {c: v for c, v in op.consts.items() if c in SHOWN_CONSTS}
        if consts:
            lines.append(", ".join(f"{c}={fmt_array(v, 1, precision)}" for c, v in consts.items()))
        boxes.append(Box(f"op{k}", "op", lines))
        edges += [(ids[id(x)], f"op{k}") for x in op.inputs]
        edges += [(f"op{k}", ids[id(o)]) for o in op.outputs if o is not None]
    notes = []
    if graph.freed and (show_values or show_grads):
        freed = show_values and any(b.freed for b in boxes)
        notes.append(AFTER_BACKWARD + (FREED_NOTE if freed else ""))
    return Picture(boxes, edges, graph.engine, notes)


def _role(node: Any, graph: Any) -> str:
    if node is graph.root:
        return "root"
    if node.op is not None:
        return "inner"
    return "leaf" if node.requires_grad else "const"


def _gradients(graph: Any) -> dict[int, Any]:
    """dL/d(node) by ``id(node)``: recomputed while the graph is intact, else the tensors' ``.grad``."""
    from chainrule.explain.backprop import backprop, seed_for

    if graph.freed:
        out = {}
        for n in graph.nodes:
            g = getattr(n.obj, "_grad", None)  # the slot: reading .grad of a non-leaf warns, as in torch
            if g is not None:
                out[id(n)] = getattr(g, "data", g)
        return out
    if not graph.root.requires_grad:
        return {}
    _, totals = backprop(graph, seed_for(graph))
    return totals
