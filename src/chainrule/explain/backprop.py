"""Backprop one op at a time, keeping every edge's contribution, plus a numerical cross-check per node.

``backprop(graph, seed)`` runs the same steps as the engine (each ``Function.backward`` on the gradients
of its outputs, broadcast gradients summed back, accumulation over consumers), newest op first, but
keeps the graph (nothing is freed) and never writes ``.grad``. ``numerical_grads`` replays the forward
pass from a node to the output in float64 with central differences.

A graph on a CUDA device is backpropagated and replayed there; the seed, the gradients returned and the
numerical gradients are NumPy arrays on the host.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.explain.graph import Graph, Node, Op


@dataclass(eq=False)
class Edge:
    """The gradient one op sends to one of its inputs."""

    op: Op
    position: int
    node: Node  # the input receiving the gradient
    upstream: list[np.ndarray | None]  # gradients of the op's outputs
    grad: np.ndarray  # this op's contribution to dL/d(node)
    summed_from: tuple[int, ...] | None  # shape before broadcast gradients were summed back, if different


def seed_for(graph: Graph, gradient: Any = None) -> np.ndarray:
    """dL/d(root) as a host array: ``gradient`` (on any device) if given, else ones."""
    root = graph.root
    if gradient is None:
        return np.ones(root.value.shape, dtype=root.value.dtype)
    g = np.asarray(backend.to_device(getattr(gradient, "data", gradient), "cpu"), dtype=root.value.dtype)
    if g.shape != root.value.shape:
        raise ValueError(
            f"explain: gradient has shape {g.shape}, but the output has shape {root.value.shape}"
        )
    return g


def backprop(graph: Graph, seed: np.ndarray) -> tuple[list[Edge], dict[int, np.ndarray]]:
    """Every edge's gradient in backward order, and the total gradient of each node (by ``id(node)``)."""
    if graph.engine == "scalar":
        return _scalar_backprop(graph, seed)
    return _tensor_backprop(graph, seed)


def _scalar_backprop(graph: Graph, seed: np.ndarray) -> tuple[list[Edge], dict[int, np.ndarray]]:
    totals: dict[int, np.ndarray] = {id(graph.root): np.asarray(seed, dtype=np.float64)}
    edges = []
    for op in reversed(graph.ops):
        out = op.outputs[0]
        d = totals.get(id(out)) if out is not None else None
        if d is None:
            continue
        for i, (x, local) in enumerate(zip(op.inputs, op.local or ())):
            g = np.asarray(float(local) * float(d), dtype=np.float64)
            totals[id(x)] = g if id(x) not in totals else totals[id(x)] + g
            edges.append(Edge(op, i, x, [d], g, None))
    return edges, totals


def _tensor_backprop(graph: Graph, seed: np.ndarray) -> tuple[list[Edge], dict[int, np.ndarray]]:
    from chainrule.autograd.grad_mode import no_grad
    from chainrule.ops.shape import sum_to
    from chainrule.tensor import Tensor, _new

    like = graph.root.value  # constants are made on the graph's device
    grads: dict[int, Any] = {id(graph.root): _new(backend.asarray(seed, like=like))}
    edges: list[Edge] = []
    with no_grad():
        for op in reversed(graph.ops):
            f = op.fn
            gys = [grads.get(id(o)) if o is not None else None for o in op.outputs]
            if all(g is None for g in gys):
                continue
            if len(gys) > 1:
                metas = f._output_meta
                like = next(g.data for g in gys if g is not None)
                gys = [
                    g if g is not None else _new(backend.zeros(s, d, like=like))
                    for g, (s, d) in zip(gys, metas)
                ]
            f.check_versions()
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            if len(gxs) != len(op.inputs):
                raise RuntimeError(
                    f"{op.kind}.backward returned {len(gxs)} gradients for {len(op.inputs)} inputs"
                )
            upstream = [None if g is None else _host(g.data) for g in gys]
            for i, (x, gx) in enumerate(zip(op.inputs, gxs)):
                if gx is None or not x.requires_grad:
                    continue
                if not isinstance(gx, Tensor):
                    gx = _new(backend.asarray(gx, dtype=x.obj.dtype, like=x.value))
                raw = None
                if gx.shape != x.shape:
                    raw = gx.shape
                    gx = sum_to(gx, x.shape)
                if gx.dtype != x.obj.dtype:
                    gx = gx.to(x.obj.dtype)
                prev = grads.get(id(x))
                grads[id(x)] = gx if prev is None else prev + gx
                edges.append(Edge(op, i, x, upstream, _host(gx.data), raw))
    return edges, {k: _host(v.data) for k, v in grads.items()}


def _host(array: Any) -> np.ndarray:
    return backend.to_device(array, "cpu")


# ---------------------------------------------------------------------------- numerical check
class _NoReplay(Exception):
    """An op on the path to the output cannot be re-run (a scalar op we could not recognise)."""


def _replay(op: Op, arrays: list[np.ndarray]) -> list[np.ndarray]:
    if op.fn is not None:
        ys = copy.copy(op.fn).forward(*arrays)  # a copy: forward may stash shapes on the Function
        ys = ys if isinstance(ys, tuple) else (ys,)
        return [backend.ensure_array(y) for y in ys]
    if op.forward is None:
        raise _NoReplay(op.kind)
    try:
        return [np.asarray(float(op.forward(*[float(a) for a in arrays])), dtype=np.float64)]
    except (ValueError, OverflowError, ZeroDivisionError):
        return [np.asarray(np.nan)]


def _as64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) if a.dtype.kind == "f" else a.copy()


def numerical_grads(
    graph: Graph, seed: np.ndarray, targets: list[Node], eps: float = 1e-6, max_checks: int = 64
) -> dict[int, tuple[np.ndarray, np.ndarray] | None]:
    """Central differences of ``sum(seed · output)`` w.r.t. each target node, in float64.

    Maps ``id(node)`` to ``(values, checked)``: at most ``max_checks`` elements per node are checked (spread
    evenly; ``checked`` is their mask, the others are NaN). A node whose path to the output goes through
    an op that cannot be replayed maps to None.
    """
    base = {id(n): _as64(backend.ensure_array(n.value)) for n in graph.nodes}
    w = backend.asarray(seed, dtype=np.float64, like=graph.root.value)
    root = id(graph.root)
    result: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
    for target in targets:
        affected = {id(target)}
        path = []
        for op in graph.ops:
            if any(id(x) in affected for x in op.inputs):
                path.append(op)
                affected.update(id(o) for o in op.outputs if o is not None)
        size = target.value.size
        out = np.full(target.shape, np.nan)
        checked = np.zeros(target.shape, dtype=bool)
        picks = np.unique(np.linspace(0, size - 1, min(size, max_checks)).astype(np.int64)) if size else []
        try:
            for k in picks:
                flat_vals = []
                for sign in (1.0, -1.0):
                    vals = dict(base)
                    v = base[id(target)].copy()
                    v.reshape(-1)[k] += sign * eps
                    vals[id(target)] = v
                    with np.errstate(all="ignore"):
                        for op in path:
                            ys = _replay(op, [vals[id(x)] for x in op.inputs])
                            for o, y in zip(op.outputs, ys):
                                if o is not None:
                                    vals[id(o)] = y
                        flat_vals.append(float(np.sum(w * vals[root])))
                out.reshape(-1)[k] = (flat_vals[0] - flat_vals[1]) / (2 * eps)
                checked.reshape(-1)[k] = True
        except _NoReplay:
            result[id(target)] = None
            continue
        result[id(target)] = (out, checked)
    return result


def tolerances(dtype: np.dtype) -> tuple[float, float]:
    """(atol, rtol) for comparing an analytic gradient of ``dtype`` with a float64 numerical one."""
    return (1e-5, 1e-3) if np.dtype(dtype) == np.float64 else (1e-3, 1e-2)


def agrees(analytic: np.ndarray, numerical: np.ndarray, checked: np.ndarray, dtype: np.dtype) -> bool:
    """Whether every checked element of ``numerical`` matches ``analytic``.

    A NaN on either side is a failure: an undefined gradient is not something the check can confirm.
    """
    atol, rtol = tolerances(dtype)
    a = np.broadcast_to(np.asarray(analytic, dtype=np.float64), numerical.shape)
    return bool(np.allclose(a[checked], numerical[checked], atol=atol, rtol=rtol, equal_nan=False))
