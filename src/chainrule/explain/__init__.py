"""Explain a backward pass: each step of backprop with its rule, its numbers, and an optional numerical check.

>>> import chainrule as cr
>>> x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
>>> a = cr.square(x); a.name = "a"
>>> y = cr.exp(a); y.name = "y"
>>> report = cr.explain(y, numerical_check=True)
>>> [s.rule for s in report.steps]
['dy/da = dy/dy · exp(a)', 'dy/dx = dy/da · 2·x']
>>> report.ok, round(float(report.grads["x"]), 6)
(True, 1.284025)
>>> x.grad is None  # explain never touches .grad, and the graph stays usable
True

``str(report)`` is aligned text for a terminal, ``report.to_markdown()`` a Markdown document, and
``report.steps`` / ``report.grads`` / ``report.values`` the same numbers as data.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.explain.backprop import agrees, backprop, numerical_grads, seed_for
from chainrule.explain.graph import _FREED, Graph, build_graph
from chainrule.explain.report import ForwardRow, Report, Step
from chainrule.explain.rules import rule

__all__ = ["ForwardRow", "Report", "Step", "build_graph", "explain"]


def explain(
    output: Any,
    numerical_check: bool = False,
    max_elements: int = 8,
    names: Mapping[Any, Any] | None = None,
    gradient: Any = None,
    precision: int = 6,
    check_elements: int = 64,
) -> Report:
    """Explain how backprop computes the gradients of ``output`` (a Tensor or a scalar-engine Scalar).

    Args:
        output: the result of a computation that requires grad.
        numerical_check: also differentiate numerically (central differences in float64) w.r.t. every node
            and mark each step ✓/✗.
        max_elements: arrays with more elements are summarised (shape, norm, first entries).
        names: ``{tensor: "Z1"}`` or ``{"Z1": tensor}`` (``names=locals()`` works) to name the nodes;
            otherwise ``.name`` is used, then ``x0…`` (leaves), ``c0…`` (constants), ``h1…`` (intermediates)
            and ``L`` (the output).
        gradient: dL/d(output) when ``output`` has several elements (defaults to ones).
        precision: significant digits in the text.
        check_elements: at most this many elements of each node are checked numerically.

    The graph is not consumed (it can still be backpropagated) and no ``.grad`` is changed.
    """
    graph = build_graph(output, names)
    try:
        return _explain(graph, numerical_check, max_elements, gradient, precision, check_elements)
    finally:  # nodes and ops refer to each other: break the cycles so the tensors go at once, without the gc
        for op in graph.ops:
            op.inputs, op.outputs = [], []


def _explain(
    graph: Graph, numerical_check: bool, max_elements: int, gradient: Any, precision: int, check_elements: int
) -> Report:
    if graph.freed:  # the structure survives backward(), the saved values its rules need do not
        raise RuntimeError(_FREED.format(name=graph.root.name))
    if not graph.root.requires_grad:
        raise RuntimeError(
            f"explain: {graph.root.name} does not require grad and has no grad_fn; create its inputs with "
            "requires_grad=True"
        )
    seed = seed_for(graph, gradient)
    edges, totals = backprop(graph, seed)
    by_id = {id(n): n for n in graph.nodes}
    numerical: dict[int, Any] = {}
    if numerical_check:
        targets = [n for n in graph.nodes if id(n) in totals and n is not graph.root]
        numerical = numerical_grads(graph, seed, targets, max_checks=check_elements)

    last_edge = {id(e.node): k for k, e in enumerate(edges)}
    steps = []
    for k, e in enumerate(edges):
        op = e.op
        out_names = [o.name for o in op.outputs if o is not None] or ["?"]
        text = rule(op.kind, e.position, out_names, [x.name for x in op.inputs], graph.root.name, op.consts,
                    e.node.shape)  # fmt: skip
        if e.summed_from is not None:
            text += f", summed from {e.summed_from} back to {e.node.shape}"
        upstream: Any = e.upstream[0] if len(e.upstream) == 1 else tuple(e.upstream)
        step = Step(k + 1, e.node.name, op.kind, ", ".join(out_names), e.position, text, upstream, e.grad)
        if op.local is not None:
            step.local = float(op.local[e.position])
        if last_edge[id(e.node)] == k:
            step.total = totals[id(e.node)]
            num = numerical.get(id(e.node))
            if num is not None:
                step.numerical, checked = num
                step.ok = (
                    agrees(step.total, step.numerical, checked, e.node.value.dtype) if checked.any() else None
                )
        steps.append(step)

    forward = [_row(n) for n in graph.nodes]
    grads = {by_id[key].name: value for key, value in _in_order(graph, totals)}
    return Report(
        output=graph.root.name,
        engine=graph.engine,
        forward=forward,
        steps=steps,
        grads=grads,
        values={n.name: _host(n.value) for n in graph.nodes},
        seed=seed,
        numerical_check=numerical_check,
        numerical={by_id[k].name: v[0] for k, v in numerical.items() if v is not None},
        max_elements=max_elements,
        precision=precision,
    )


def _in_order(graph: Graph, totals: dict[int, np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """Totals in backward order: the output first, leaves last."""
    return [(id(n), totals[id(n)]) for n in reversed(graph.nodes) if id(n) in totals]


def _row(node: Any) -> ForwardRow:
    if node.op is None:
        kind = "leaf" if node.requires_grad else "const"
        return ForwardRow(node.name, kind, [], node.shape, str(node.value.dtype), _host(node.value))
    op = node.op
    inputs = [x.name for x in op.inputs]
    return ForwardRow(
        node.name, op.kind, inputs, node.shape, str(node.value.dtype), _host(node.value), dict(op.consts)
    )


def _host(array: Any) -> np.ndarray:
    """Report arrays live on the host, whatever the graph's device."""
    return backend.to_device(array, "cpu")


class _CallableModule(types.ModuleType):
    """``chainrule.explain`` is both this package and the function: ``cr.explain(y)`` works either way.

    (Importing the submodule makes ``chainrule.explain`` the module, shadowing the lazily exported
    function of the same name; making the module callable keeps ``cr.explain(...)`` working.)
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
