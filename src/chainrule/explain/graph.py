"""One view of a computational graph for both engines: value nodes and the ops between them, named.

``build_graph(output)`` walks a tensor-engine graph (``Tensor.creator`` / ``Function.inputs``) or a
scalar-engine graph (``Scalar.parents`` / ``local_grads`` / ``op``, via ``chainrule.scalar.topological_sort``)
without running or changing anything, and returns the nodes and ops in forward (topological) order.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True, name="x")
>>> g = build_graph(cr.exp(x) * 3)
>>> [n.name for n in g.nodes], [op.kind for op in g.ops]
(['x', 'h1', 'L'], ['Exp', 'MulScalar'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.tensor import Tensor

#: Attributes of a ``Function`` worth showing as constants of the op (``MulScalar c=0.5``...).
_CONST_ATTRS = ("c", "slope", "alpha", "beta", "lo", "hi", "axes", "axis", "keepdims", "shape", "p", "dim")

_FREED = (
    "explain: the graph behind {name} was freed by an earlier backward(); rebuild it, or call "
    "backward(retain_graph=True) the first time"
)


@dataclass(eq=False)
class Node:
    """A value in the graph: a Tensor or a Scalar, its forward value, and the op that made it (if any)."""

    obj: Any
    value: np.ndarray
    requires_grad: bool
    op: Op | None = None
    name: str = ""

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(eq=False)
class Op:
    """One op application: ``outputs = kind(inputs)``.

    ``fn`` is the ``Function`` (tensor engine); ``local`` the stored local derivatives and ``forward`` the
    replay of the recorded op (scalar engine). ``outputs`` has None for outputs not on a path to the root.
    """

    kind: str
    inputs: list[Node]
    outputs: list[Node | None]
    fn: Any = None
    consts: dict[str, Any] = field(default_factory=dict)
    local: tuple[float, ...] | None = None
    forward: Any = None


@dataclass
class Graph:
    """Nodes and ops in forward order (each after everything it depends on); ``root`` is the output."""

    root: Node
    nodes: list[Node]
    ops: list[Op]
    engine: str  # "tensor" or "scalar"

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named {name!r}; the graph has {[n.name for n in self.nodes]}")


def is_scalar_node(obj: Any) -> bool:
    """A scalar-engine node (checked by type when the scalar engine is importable, else by attributes)."""
    try:
        from chainrule.scalar import Scalar
    except ImportError:  # pragma: no cover - the scalar engine ships with chainrule
        return hasattr(obj, "derivative") and hasattr(obj, "_parents")
    return isinstance(obj, Scalar)


def build_graph(output: Any, names: Mapping[Any, Any] | None = None) -> Graph:
    """The graph that produced ``output`` (a Tensor or a Scalar), with every node named.

    Names come from ``names`` (``{tensor: "Z1"}`` or ``{"Z1": tensor}``, e.g. ``locals()``), then from the
    objects' own ``name``, then defaults: ``x0, x1…`` for leaves that require grad, ``c0, c1…`` for
    constants, ``h1, h2…`` for intermediates and ``L`` for the output.
    """
    if isinstance(output, Tensor):
        graph = _tensor_graph(output)
    elif is_scalar_node(output):
        graph = _scalar_graph(output)
    else:
        raise TypeError(f"expected a chainrule Tensor or Scalar, got {type(output).__name__}")
    _assign_names(graph, names)
    return graph


# ---------------------------------------------------------------------------- tensor engine
def _tensor_graph(root: Tensor) -> Graph:
    nodes: dict[int, Node] = {}
    ops: dict[int, Op] = {}
    order_nodes: list[Node] = []
    order_ops: list[Op] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            f = t.creator
            op = None
            if f is not None:
                op = ops.get(id(f))
                if op is None:
                    op = Op(f.name, [nodes[id(x)] for x in f.inputs], [], fn=f, consts=_consts(f))
                    ops[id(f)] = op
                    order_ops.append(op)
            node = Node(t, t.data, bool(t.requires_grad), op, _own_name(t))
            nodes[id(t)] = node
            order_nodes.append(node)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        f = t.creator
        if f is not None:
            if f.inputs is None:
                raise RuntimeError(_FREED.format(name=t.name or "the output"))
            stack.extend((x, False) for x in reversed(f.inputs) if id(x) not in seen)
    for op in order_ops:
        op.outputs = [nodes.get(id(o)) if o is not None else None for o in op.fn.outputs]
    return Graph(nodes[id(root)], order_nodes, order_ops, "tensor")


def _consts(f: Any) -> dict[str, Any]:
    out = {}
    for attr in _CONST_ATTRS:
        value = getattr(f, attr, None)
        if value is not None and not callable(value):
            out[attr] = value
    return out


def _own_name(obj: Any) -> str | None:
    if isinstance(obj, Tensor):
        return obj.name
    name = getattr(obj, "_name", None)  # Scalar.name falls back to the unique id; only a given name counts
    return name if isinstance(name, str) else None


# ---------------------------------------------------------------------------- scalar engine
def _scalar_graph(root: Any) -> Graph:
    from chainrule.explain._scalar_ops import describe
    from chainrule.scalar import topological_sort

    if not getattr(root, "requires_grad", False):
        raise RuntimeError(
            f"explain: Scalar {root.name!r} does not require grad, so it has no graph to explain; call "
            "requires_grad_() on its leaves before computing it"
        )
    order = list(reversed(topological_sort(root)))
    nodes: dict[int, Node] = {}
    ops: list[Op] = []
    for s in order:
        parents = s.parents
        op = None
        if parents:
            recorded = describe(s)
            local = tuple(float(g) for g in s.local_grads)
            op = Op(recorded.kind, [nodes[id(p)] for p in parents], [], consts=recorded.consts, local=local,
                    forward=recorded.forward)  # fmt: skip
            ops.append(op)
        node = Node(s, np.asarray(float(s.data), dtype=np.float64), True, op, _own_name(s))
        if op is not None:
            op.outputs = [node]
        nodes[id(s)] = node
    return Graph(nodes[id(root)], [nodes[id(s)] for s in order], ops, "scalar")


# ---------------------------------------------------------------------------- names
def _overrides(names: Any) -> dict[int, str]:
    out: dict[int, str] = {}
    if not names:
        return out
    if not isinstance(names, Mapping):  # e.g. model.named_parameters(): (name, tensor) pairs
        names = dict(names)
    for key, value in names.items():
        if isinstance(key, str):
            if not key.startswith("_") and (isinstance(value, Tensor) or is_scalar_node(value)):
                out.setdefault(id(value), key)  # locals(): the first variable bound to a tensor wins
        elif isinstance(value, str):
            out[id(key)] = value
    return out


def _assign_names(graph: Graph, names: Mapping[Any, Any] | None) -> None:
    given = _overrides(names)
    counters = {"x": 0, "c": 0, "h": 1}
    used: set[str] = set()
    pending = []
    for node in graph.nodes:
        name = given.get(id(node.obj)) or node.name
        if name:
            node.name = _unique(str(name), used)
        else:
            pending.append(node)
    for node in pending:
        if node is graph.root:
            node.name = _unique("L", used)
            continue
        prefix = "h" if node.op is not None else ("x" if node.requires_grad else "c")
        while True:
            candidate = f"{prefix}{counters[prefix]}"
            counters[prefix] += 1
            if candidate not in used:
                break
        node.name = candidate
        used.add(candidate)


def _unique(name: str, used: set[str]) -> str:
    candidate, k = name, 2
    while candidate in used:
        candidate = f"{name}_{k}"
        k += 1
    used.add(candidate)
    return candidate
