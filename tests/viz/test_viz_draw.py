"""``chainrule.viz.draw``: the Graph object (Jupyter MIME bundle, files by suffix, DOT), both engines, the
size limit, and drawing after ``backward()`` freed the graph."""

from __future__ import annotations

import base64
import re
import shutil
from xml.etree import ElementTree

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import examples, viz

pytest.importorskip("matplotlib")
pytest.importorskip("grandalf")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def svg_texts(svg: str | bytes) -> list[str]:
    """Every text element of an SVG (which must parse as XML)."""
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return [t.text or "" for t in root.iter(SVG_TEXT)]


def box_lines(graph: viz.Graph) -> dict[str, list[str]]:
    """Value boxes by name -> their text lines."""
    return {b.lines[0]: b.lines for b in graph.picture.boxes if not b.is_op}


def test_mime_bundle_has_svg_with_the_names_and_a_png_fallback():
    graph = viz.draw(examples.two_layer())
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml", "image/png"}
    texts = svg_texts(bundle["image/svg+xml"])
    assert {"A0", "W1", "Z1", "A1", "W2", "Z2", "A2", "L", "MatMul", "Sigmoid", "Sub"} <= set(texts)
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    assert bundle["text/plain"] == repr(graph) == "<chainrule Graph: 12 values, 8 ops, tensor engine>"


def test_mime_bundle_respects_include_and_exclude():
    graph = viz.draw(examples.chain())
    assert set(graph._repr_mimebundle_(include=["image/svg+xml"])) == {"text/plain", "image/svg+xml"}
    assert set(graph._repr_mimebundle_(exclude=["image/png"])) == {"text/plain", "image/svg+xml"}


def test_without_the_viz_extra_the_notebook_shows_a_hint(monkeypatch):
    import sys

    for name in ("grandalf", "grandalf.graphs", "grandalf.layouts"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    graph = viz.draw(examples.chain())
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "pip install 'chainrule[viz]'" in bundle["text/plain"]
    with pytest.raises(ImportError, match=r"grandalf and matplotlib: pip install 'chainrule\[viz\]'"):
        graph.svg()
    assert graph.source.startswith("digraph")


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".svg", b"<?xml"), (".png", PNG_MAGIC), (".pdf", b"%PDF-"), (".dot", b"digraph")]
)
def test_save_chooses_the_format_by_suffix(tmp_path, suffix, magic):
    graph = viz.draw(examples.chain())
    out = graph.save(tmp_path / f"g{suffix}")
    assert out == tmp_path / f"g{suffix}" and out.read_bytes().startswith(magic)
    if suffix == ".svg":
        assert {"x", "a", "b", "y", "Square", "Exp"} <= set(svg_texts(out.read_bytes()))
    if suffix == ".dot":
        assert out.read_text() == graph.source == viz.to_dot(examples.chain())


def test_save_format_overrides_the_suffix_and_bad_suffixes_are_refused(tmp_path):
    graph = viz.draw(examples.chain())
    assert graph.save(tmp_path / "picture", format="png").read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match=r"cannot save .*g\.txt: unsupported format 'txt'.*\.svg, \.png"):
        graph.save(tmp_path / "g.txt")
    with pytest.raises(ValueError, match="unsupported format 'jpg'"):
        viz.render(examples.chain(), tmp_path / "g.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["picture"]


def test_svg_text_methods_agree_with_save(tmp_path):
    graph = viz.draw(examples.scalar())
    assert graph.svg() == graph.save(tmp_path / "s.svg").read_text(encoding="utf-8")
    assert graph.png() == graph.save(tmp_path / "s.png").read_bytes()


def test_scalar_engine_graph(torch):
    y = examples.scalar()  # y = 3*x1 + 5*x2
    graph = viz.draw(y)
    lines = box_lines(graph)
    assert set(lines) == {"x1", "x2", "y", "h1", "h2"}  # constants are part of their ops, as in explain
    t1 = torch.tensor(1.0, requires_grad=True)
    t2 = torch.tensor(2.0, requires_grad=True)
    (3 * t1 + 5 * t2).backward()
    assert f"grad {t1.grad.item():g}" in lines["x1"] and f"grad {t2.grad.item():g}" in lines["x2"]
    assert lines["y"][1] == "value 13"
    assert {"x1", "x2", "y"} <= set(svg_texts(graph.svg()))
    roles = {b.lines[0]: b.role for b in graph.picture.boxes}
    assert roles["x1"] == "leaf" and roles["y"] == "root" and roles["h1"] == "inner"


def test_grads_before_backward_match_torch_and_leave_grad_alone(torch):
    x = cr.tensor([0.3, -0.7], dtype="float64", requires_grad=True, name="x")
    y = (x.tanh() * x).sum()
    lines = box_lines(viz.draw(y, precision=6))
    tx = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    (tx.tanh() * tx).sum().backward()
    g = tx.grad.numpy()
    assert lines["x"][-1] == f"grad [{g[0]:.6g}, {g[1]:.6g}]"
    assert x.grad is None


def test_show_values_and_grads_can_be_turned_off():
    lines = box_lines(viz.draw(examples.chain(), show_values=False, show_grads=False))
    assert lines["x"] == ["x", "() float64"]


# ---------------------------------------------------------------------------- after backward
def test_drawable_after_backward_with_leaf_values_and_grads(torch):
    w = cr.tensor([[0.2, -0.4], [0.7, 0.1]], dtype="float64", requires_grad=True, name="w")
    x = cr.tensor([[1.0, 2.0]], dtype="float64", name="x")
    h = (x @ w).sigmoid()
    h.name = "h"
    loss = (h * h).sum()
    loss.name = "loss"
    loss.backward()
    tw = torch.tensor(w.data, requires_grad=True)
    th = (torch.tensor(x.data) @ tw).sigmoid()
    (th * th).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)

    graph = viz.draw(loss, precision=6)
    lines = box_lines(graph)
    assert list(lines) == ["x", "w", "h1", "h", "h2", "loss"]
    assert lines["w"][2] == "value [[0.2, -0.4], [0.7, 0.1]]"
    g = tw.grad.numpy()
    assert lines["w"][3] == f"grad [[{g[0, 0]:.6g}, {g[0, 1]:.6g}], [{g[1, 0]:.6g}, {g[1, 1]:.6g}]]"
    assert lines["x"][2] == "value [[1, 2]]" and lines["h"][2].startswith("value [[")
    freed = [name for name, text in lines.items() if "value freed" in text]
    assert freed == ["h1", "h2"]  # x @ w and h * h: nobody kept them; h is still held, so it shows
    assert [b.freed for b in graph.picture.boxes if b.lines[0] == "h1"] == [True]
    assert "value freed" in svg_texts(graph.svg()) and any(
        "after backward()" in t for t in svg_texts(graph.svg())
    )
    kinds = [b.lines[0] for b in graph.picture.boxes if b.is_op]
    assert kinds == ["MatMul", "Sigmoid", "Mul", "Sum"]
    dot = viz.to_dot(loss)
    assert dot.count(" -> ") == len(graph.picture.edges) == 10  # h * h: two edges from h

    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    with pytest.raises(RuntimeError, match=r"freed by an earlier backward\(\).*viz\.draw"):
        cr.explain(loss)


def test_after_backward_matches_the_drawing_before():
    def build():
        a = cr.tensor([1.0, 2.0], requires_grad=True, name="a")
        b = cr.tensor(3.0, requires_grad=True, name="b")
        c = a * b
        return (c.exp() + c).sum(), (a, b)

    before, _ = build()
    after, _keep = build()
    after.backward()
    shape = [
        (b.role, b.lines[:2]) for b in viz.draw(before, show_values=False, show_grads=False).picture.boxes
    ]
    drawn = viz.draw(after, show_values=False, show_grads=False)
    assert [(b.role, b.lines[:2]) for b in drawn.picture.boxes] == shape
    assert drawn.picture.edges == viz.draw(before).picture.edges


def test_multi_output_op_after_backward():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    a, b = cr.split(x, [1, 2], dim=1)
    y = (a.exp().sum() + (b * 2).sum()) * 1.0
    before = viz.draw(y, show_values=False, show_grads=False)
    y.backward()
    after = viz.draw(y, show_values=False, show_grads=False)
    assert [bx.lines for bx in after.picture.boxes] == [bx.lines for bx in before.picture.boxes]
    assert after.picture.edges == before.picture.edges
    assert "value freed" in str([bx.lines for bx in viz.draw(y).picture.boxes])


def test_retained_graph_is_drawn_with_recomputed_gradients():
    x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
    y = cr.exp(x) * x
    y.backward(retain_graph=True)
    lines = box_lines(viz.draw(y, precision=8))
    assert "value freed" not in str(lines)
    assert lines["x"][-1] == f"grad {float(x.grad.data):.8g}"


def test_retain_grad_intermediate_shows_its_grad_after_backward(torch):
    x = cr.tensor([0.5, 1.5], dtype="float64", requires_grad=True, name="x")
    h = x.exp()
    h.name = "h"
    h.retain_grad()
    y = (h * h).sum()
    y.backward()
    tx = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    th = tx.exp()
    th.retain_grad()
    (th * th).sum().backward()
    g = th.grad.numpy()
    assert box_lines(viz.draw(y))["h"][-1] == f"grad [{g[0]:.4g}, {g[1]:.4g}]"


# ---------------------------------------------------------------------------- size limit and engines
def _wide(n: int):
    a = cr.tensor(0.1, requires_grad=True, name="a")
    total = a * 1.0
    for k in range(n):
        total = total + (a * float(k)).exp()
    return total


def test_too_large_graphs_are_refused_with_a_hint_but_keep_their_source(tmp_path):
    graph = viz.draw(_wide(6), max_nodes=20)
    assert len(graph) > 20 and graph.too_large
    assert graph.source.startswith("digraph")
    with pytest.raises(ValueError, match=r"more than max_nodes=20.*\.save\('graph\.dot'\).*max_nodes=\d+"):
        graph.svg()
    with pytest.raises(ValueError, match=r"cannot save .*big\.png: draw: the graph has \d+ nodes"):
        graph.save(tmp_path / "big.png")
    assert not (tmp_path / "big.png").exists()
    assert graph.save(tmp_path / "big.dot").read_text() == graph.source
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "max_nodes" in bundle["text/plain"]
    assert viz.draw(_wide(6), max_nodes=len(graph)).png().startswith(PNG_MAGIC)


def test_default_limit_allows_a_few_hundred_nodes():
    assert viz.MAX_NODES >= 300
    graph = viz.draw(_wide(45))
    assert 250 < len(graph) <= viz.MAX_NODES and not graph.too_large


def test_engines(monkeypatch):
    with pytest.raises(ValueError, match="engine must be one of auto, dot, matplotlib"):
        viz.draw(examples.chain(), engine="neato")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(RuntimeError, match="engine='dot' needs the 'dot' program"):
        viz.draw(examples.chain(), engine="dot").svg()
    assert viz.draw(examples.chain(), engine="matplotlib").svg().lstrip().startswith("<?xml")


def test_dot_engine_is_used_when_installed(monkeypatch):
    calls = []

    def fake_run(source, fmt, exe):
        calls.append((fmt, exe))
        return b"<svg xmlns='http://www.w3.org/2000/svg'><text>x</text></svg>"

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setattr(viz._graph, "run_dot", fake_run)
    assert svg_texts(viz.draw(examples.chain()).svg()) == ["x"]
    assert calls == [("svg", "/usr/bin/dot")]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_real_dot_program(tmp_path):
    svg = viz.draw(examples.two_layer()).save(tmp_path / "g.svg").read_text()
    assert "W1" in svg and re.search(r"<svg", svg)


def test_after_in_place_ops_and_autograd_grad(torch):
    x = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True, name="x")
    h = x * 2
    h.mul_(3)
    y = h.exp().sum()
    y.backward()
    boxes = viz.draw(y, precision=6).picture.boxes
    assert [b.lines[0] for b in boxes if b.is_op] == ["MulScalar", "MulScalar", "Exp", "Sum"]
    assert [b.lines[1] for b in boxes if b.is_op and b.lines[0] == "MulScalar"] == ["c=2", "c=3"]
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (tx * 2 * 3).exp().sum().backward()
    g = tx.grad.numpy()
    assert boxes[0].lines[-1] == f"grad [{g[0]:.6g}, {g[1]:.6g}]"

    x2 = cr.tensor([1.0, 2.0], requires_grad=True, name="x2")
    a, b = cr.split(x2 * 1.0, 1)
    z = (a * b).sum()
    cr.grad(z, x2)  # frees the graph too, and writes no .grad
    lines = box_lines(viz.draw(z))
    assert len(lines["x2"]) == 3 and lines["x2"][2] == "value [1, 2]"  # no grad line: x2.grad is None


_UNARY = [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t * 2.0, lambda t: t.sum(dim=0, keepdim=True)]
_BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b]


@given(
    shape=st.sampled_from([(3,), (2, 3), (1, 3)]),
    program=st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 20)), min_size=1, max_size=8),
)
def test_structure_after_backward_equals_structure_before(shape, program):
    """Random programs: the drawing after backward() has the same boxes, kinds, shapes and edges."""

    def build():
        x = cr.tensor(np.linspace(0.1, 0.6, int(np.prod(shape))).reshape(shape), requires_grad=True, name="x")
        values = [x]
        for binary, op, pick in program:
            a = values[pick % len(values)]
            if binary:
                b = values[(pick * 7 + 1) % len(values)]
                values.append(_BINARY[op % 3](a, b) if a.shape == b.shape else _UNARY[op](a))
            else:
                values.append(_UNARY[op](a))
        return values[-1].sum() * 1.0

    def structure(y):
        picture = viz.draw(y, show_values=False, show_grads=False).picture
        return [(b.role, b.lines) for b in picture.boxes], picture.edges

    before = structure(build())
    y = build()
    y.backward()
    assert structure(y) == before
