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

from chainrule.autograd.skeleton import Skeleton, Source
from chainrule.tensor import Tensor

#: Attributes of a ``Function`` worth showing as constants of the op (``MulScalar c=0.5``...).
_CONST_ATTRS = ("c", "slope", "alpha", "beta", "lo", "hi", "axes", "axis", "keepdims", "shape", "p", "dim")

_FREED = (
    "explain: the graph behind {name} was freed by an earlier backward(); rebuild it, or call "
    "backward(retain_graph=True) the first time (chainrule.viz.draw can still draw the freed graph)"
)


@dataclass(eq=False)
class Node:
    """A value in the graph: a Tensor or a Scalar, its forward value, and the op that made it (if any).

    After ``backward()`` freed the graph, an intermediate the user did not keep has ``obj`` and ``value``
    None (``freed``); its shape and dtype were written down (``meta``) when it was freed.
    """

    obj: Any
    value: np.ndarray | None
    requires_grad: bool
    op: Op | None = None
    name: str = ""
    meta: tuple[tuple[int, ...], np.dtype] | None = None

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def freed(self) -> bool:
        return self.value is None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape) if self.value is not None else tuple(self.meta[0])  # type: ignore[index]

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype if self.value is not None else self.meta[1]  # type: ignore[index]


@dataclass(eq=False)
class Op:
    """One op application: ``outputs = kind(inputs)``.

    ``fn`` is the ``Function`` (tensor engine; None once ``backward()`` freed it, when only its skeleton
    is left); ``local`` the stored local derivatives and ``forward`` the replay of the recorded op (scalar
    engine). ``outputs`` has None for outputs not on a path to the root.
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

    @property
    def freed(self) -> bool:
        """Whether ``backward()`` freed some of it: its structure is known, some saved values are not."""
        return self.engine == "tensor" and any(op.fn is None for op in self.ops)

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
# The walk meets live Tensors and, past a Function freed by backward(), the Sources of its Skeleton
# (chainrule.autograd.skeleton). A value's key is id(tensor) while it lives, else (id(creator's
# skeleton), index), or id(weakref) for a freed constant. An op's producer is the Function while it
# has its inputs, else its Skeleton.
def _tensor_graph(root: Tensor) -> Graph:
    nodes: dict[Any, Node] = {}
    ops: dict[int, Op] = {}
    order_nodes: list[Node] = []
    order_ops: list[Op] = []
    seen: set[Any] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        item, expanded = stack.pop()
        key, t, source = _identify(item)
        producer = _producer(t, source, root)
        if expanded:
            op = None
            if producer is not None:
                op = ops.get(id(producer))
                if op is None:
                    op = _make_op(producer, [nodes[_identify(x)[0]] for x in _parents(producer)])
                    ops[id(producer)] = op
                    order_ops.append(op)
            node = _make_node(t, source, op)
            nodes[key] = node
            order_nodes.append(node)
            if op is not None and op.fn is None:  # a freed op: its outputs are the values met so far
                index = source.index if source is not None else _output_index(t)
                op.outputs += [None] * (index + 1 - len(op.outputs))
                op.outputs[index] = node
            continue
        if key in seen:
            continue
        seen.add(key)
        stack.append((item, True))
        if producer is not None:
            stack.extend((x, False) for x in reversed(_parents(producer)) if _identify(x)[0] not in seen)
    for op in order_ops:
        if op.fn is not None:
            op.outputs = [nodes.get(id(o)) if o is not None else None for o in op.fn.outputs]
    return Graph(nodes[id(root)], order_nodes, order_ops, "tensor")


def _identify(item: Any) -> tuple[Any, Tensor | None, Source | None]:
    """(key, the tensor if alive, the Source if ``item`` is a skeleton's record) for a Tensor or a record."""
    if isinstance(item, Tensor):
        return id(item), item, None
    source = Source(*item)
    t = source.tensor()
    if t is not None:
        return id(t), t, source
    key = (id(source.skeleton), source.index) if source.skeleton is not None else id(source.ref)
    return key, None, source


def _producer(t: Tensor | None, source: Any, root: Tensor) -> Any:
    """The Function that made the value (inputs intact), its Skeleton (freed), or None for a leaf."""
    if t is None:
        return source.skeleton
    f = t.creator
    if f is None or f.inputs is not None:
        return f
    skeleton = f._skeleton
    if skeleton is None or skeleton.sources is None:
        raise RuntimeError(_FREED.format(name=root.name or "the output"))
    return skeleton


def _parents(producer: Any) -> list[Any]:
    if isinstance(producer, Skeleton):
        return producer.sources or []
    return producer.inputs


def _output_index(t: Any) -> int:
    refs = t.creator.output_refs()
    return 0 if len(refs) < 2 else next((k for k, r in enumerate(refs) if r() is t), 0)


def _make_op(producer: Any, inputs: list[Node]) -> Op:
    if isinstance(producer, Skeleton):
        return Op(producer.kind, inputs, [], consts=dict(producer.consts or {}))
    return Op(producer.name, inputs, [], fn=producer, consts=_consts(producer))


def _make_node(t: Tensor | None, source: Any, op: Op | None) -> Node:
    if t is not None:
        return Node(t, t.data, bool(t.requires_grad), op, _own_name(t))
    return Node(None, None, op is not None, op, source.name, meta=(source.shape, source.dtype))


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
