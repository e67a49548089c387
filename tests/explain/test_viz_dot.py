"""``chainrule.viz.to_dot``: DOT text whose structure mirrors the graph, for both engines."""

from __future__ import annotations

import re

import numpy as np

import chainrule as cr
from chainrule import examples, viz
from chainrule.scalar import topological_sort

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", shape=(\w+)')
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """Nodes (id -> (label, shape)) and edges of the DOT text; fails on anything unexpected."""
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph chainrule {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if m := NODE.match(line):
            assert m.group(1) not in nodes
            nodes[m.group(1)] = (m.group(2), m.group(3))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            assert re.match(r'^\s*(rankdir=\w+|node \[.*\]|edge \[.*\]|labelloc=b; label=".*");$', line), line
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
        assert (nodes[a][1] == "box") != (nodes[b][1] == "box")  # bipartite: values <-> ops
    return nodes, edges


def tensor_graph_counts(out) -> tuple[int, int, int]:
    """(#tensors, #functions, #edges) by walking creator/inputs independently of chainrule.viz."""
    tensors, functions, stack = {}, {}, [out]
    while stack:
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        if t.creator is not None:
            functions[id(t.creator)] = t.creator
            stack.extend(t.creator.inputs)
    n_edges = 0
    for f in functions.values():
        n_edges += len(f.inputs) + sum(1 for o in f.outputs if o is not None and id(o) in tensors)
    return len(tensors), len(functions), n_edges


def test_two_layer_dot_structure_and_labels():
    L = examples.two_layer()
    dot = viz.to_dot(L)
    nodes, edges = parse(dot)
    n_tensors, n_funcs, n_edges = tensor_graph_counts(L)
    assert sum(1 for _, shape in nodes.values() if shape == "ellipse") == n_tensors
    assert sum(1 for _, shape in nodes.values() if shape == "box") == n_funcs
    assert len(edges) == n_edges
    labels = {label.split("\\n")[0]: label for label, _ in nodes.values()}
    assert {"A0", "W1", "W2", "Z1", "A1", "Z2", "A2", "L", "MatMul", "Sigmoid"} <= set(labels)
    assert "(2, 2) float64" in labels["W1"] and "value [[0.1, 0.4], [0.8, 0.6]]" in labels["W1"]
    assert "grad " in labels["W1"] and "grad " not in labels["A0"]  # constants get no gradient


def test_grads_in_labels_match_torch_and_leave_grad_untouched(torch):
    x = cr.tensor([0.3, -0.7], dtype="float64", requires_grad=True, name="x")
    y = (x.exp() * x).sum()
    nodes, _ = parse(viz.to_dot(y, precision=6))
    tx = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    (tx.exp() * tx).sum().backward()
    g = tx.grad.numpy()
    x_label = next(label for label, _ in nodes.values() if label.startswith("x\\n"))
    assert f"grad [{g[0]:.6g}, {g[1]:.6g}]" in x_label
    assert x.grad is None
    y.backward()  # the graph is still usable
    np.testing.assert_allclose(x.grad.data, g, rtol=1e-12)


def test_show_values_and_show_grads_switches():
    L = examples.chain()
    plain = viz.to_dot(L, show_values=False, show_grads=False)
    assert "value " not in plain and "grad " not in plain
    assert parse(plain)[1] == parse(viz.to_dot(L))[1]


def test_scalar_engine_dot():
    y = examples.scalar()
    nodes, edges = parse(viz.to_dot(y))
    order = topological_sort(y)
    inner = [n for n in order if n.parents]
    assert sum(1 for _, s in nodes.values() if s == "ellipse") == len(order)
    assert sum(1 for _, s in nodes.values() if s == "box") == len(inner)
    assert len(edges) == sum(len(n.parents) for n in inner) + len(inner)
    labels = [label for label, _ in nodes.values()]
    assert "x1\\nvalue 1\\ngrad 3" in labels and "MulScalar\\nc=5" in labels


def test_names_with_quotes_are_escaped():
    x = cr.tensor(1.0, requires_grad=True, name='say "hi" \\ bye')
    nodes, _ = parse(viz.to_dot(x * 2))
    assert any(label.startswith('say \\"hi\\" \\\\ bye') for label, _ in nodes.values())


def test_dot_after_backward_keeps_the_structure():
    L = examples.two_layer()
    n_tensors, n_funcs, n_edges = tensor_graph_counts(L)
    L.backward()
    nodes, edges = parse(viz.to_dot(L, precision=6))  # W1's grad: the hand derivation's (seed 002)
    assert sum(1 for _, shape in nodes.values() if shape == "ellipse") == n_tensors
    assert sum(1 for _, shape in nodes.values() if shape == "box") == n_funcs
    assert len(edges) == n_edges
    labels = {label.split("\\n")[0]: label for label, _ in nodes.values()}
    assert "grad [[0.000929071, 0.00286008], [0.00238904, 0.00735448]]" in labels["W1"].replace("\\n", " ")
