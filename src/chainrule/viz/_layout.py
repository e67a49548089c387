"""A layered (Sugiyama) layout of the picture, left to right, computed by grandalf (pure Python, no system
dependency; igraph's layout was faster but crossed edges on a 150-node MLP graph where grandalf did not).

Boxes are sized from their text; ``layout`` returns each box's centre and each edge's polyline (long
edges bend through grandalf's dummy points) in points (1/72 inch).
"""

from __future__ import annotations

from dataclasses import dataclass

from chainrule.viz._model import Picture

FONT_SIZE = 9.0
_CHAR_W = 0.6 * FONT_SIZE  # a monospaced approximation; labels are short, boxes get a margin
_LINE_H = 1.35 * FONT_SIZE
_PAD_X, _PAD_Y = 12.0, 8.0
_LAYER_GAP, _NODE_GAP = 36.0, 14.0  # between layers (left to right) and between boxes of one layer


@dataclass
class Layout:
    """Centres ``(x, y)`` and sizes ``(w, h)`` of the boxes by key, edges as ``(from, to, polyline)``, and
    the bounding box."""

    centres: dict[str, tuple[float, float]]
    sizes: dict[str, tuple[float, float]]
    paths: list[tuple[str, str, list[tuple[float, float]]]]
    width: float
    height: float


def box_size(lines: list[str]) -> tuple[float, float]:
    """(width, height) in points of a box holding ``lines``."""
    return max(len(t) for t in lines) * _CHAR_W + 2 * _PAD_X, len(lines) * _LINE_H + 2 * _PAD_Y


class _View:
    """What grandalf reads and writes on a vertex (``w``, ``h``, ``xy``) or an edge (``setpath``)."""

    def __init__(self, w: float = 0.0, h: float = 0.0) -> None:
        self.w, self.h, self.xy = w, h, (0.0, 0.0)
        self.path: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.path = list(points)


def layout(picture: Picture) -> Layout:
    """Place every box: grandalf layers top to bottom, so sizes go in transposed and positions come out
    transposed, giving layers from left (inputs) to right (the output)."""
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
    except ImportError:
        raise ImportError(
            "drawing a graph picture without Graphviz needs grandalf and matplotlib: "
            "pip install 'chainrule[viz]'"
        ) from None
    sizes = {b.key: box_size(b.lines) for b in picture.boxes}
    vertices = {}
    for b in picture.boxes:
        v = Vertex(b.key)
        w, h = sizes[b.key]
        v.view = _View(h, w)  # transposed: grandalf's layers are rows
        vertices[b.key] = v
    edges = []
    for a, b in picture.edges:
        e = Edge(vertices[a], vertices[b])
        e.view = _View()
        edges.append(e)
    graph = Graph(list(vertices.values()), edges)
    offset = 0.0
    for component in graph.C:  # each connected piece is laid out on its own, stacked vertically
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = _NODE_GAP, _LAYER_GAP
        sug.init_all(optimize=True)  # pulls leaves (weights, inputs) next to the op that uses them
        sug.draw(3)
        xs = [v.view.xy[0] - v.view.w / 2 for v in component.sV]
        shift = offset - min(xs)
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        for e in component.sE:
            e.view.path = [(x + shift, y) for x, y in e.view.path]
        offset = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + 2 * _NODE_GAP
    centres = {k: (v.view.xy[1], v.view.xy[0]) for k, v in vertices.items()}  # transposed back
    paths = [[(y, x) for x, y in e.view.path] for e in edges]  # transposed back
    for item in [*vertices.values(), *edges]:  # grandalf's vertices and edges refer to each other: let go
        del item.view
    left = min(centres[k][0] - sizes[k][0] / 2 for k in centres)
    top = min(centres[k][1] - sizes[k][1] / 2 for k in centres)
    centres = {k: (x - left, y - top) for k, (x, y) in centres.items()}
    paths = [(a, b, [(x - left, y - top) for x, y in p]) for (a, b), p in zip(picture.edges, paths)]
    width = max(centres[k][0] + sizes[k][0] / 2 for k in centres)
    height = max(centres[k][1] + sizes[k][1] / 2 for k in centres)
    return Layout(centres, sizes, paths, width, height)
