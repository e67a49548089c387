"""Pictures: the computational graph (inline in Jupyter, or SVG/PNG/PDF/DOT files), training curves,
gradient flow and a live training plot.

>>> import chainrule as cr
>>> x = cr.tensor(0.5, dtype="float64", requires_grad=True, name="x")
>>> dot = to_dot(cr.exp(x))
>>> dot.splitlines()[0], dot.count(" -> ")
('digraph chainrule {', 2)

``draw(y)`` returns a :class:`Graph` that displays itself in Jupyter and saves by suffix. Pictures need
only pip: a layered layout by grandalf, drawn by matplotlib (``pip install 'chainrule[viz]'``); Graphviz's
``dot`` program is used instead when it is on the PATH. ``to_dot`` needs nothing beyond NumPy. Optional
libraries are imported when first used, never by ``import chainrule``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainrule.viz._graph import MAX_NODES, Graph, draw
from chainrule.viz._plots import LivePlot, plot_grad_flow, plot_history

__all__ = [
    "MAX_NODES",
    "Graph",
    "LivePlot",
    "draw",
    "picture_blockers",
    "plot_grad_flow",
    "plot_history",
    "plot_training_curves",
    "render",
    "to_dot",
]


def picture_blockers() -> list[str]:
    """What stops this install from drawing .svg/.png/.pdf pictures: ``[]`` when it can.

    Pictures need Graphviz's ``dot`` on the PATH, or grandalf and matplotlib
    (``pip install 'chainrule[viz]'``). Checked without importing them, so a command can say so before doing
    any work.
    """
    from chainrule._optional import available
    from chainrule.viz._dot import dot_program

    if dot_program() is not None:
        return []
    return [module for module in ("matplotlib", "grandalf") if not available(module)]


def to_dot(
    output: Any,
    show_values: bool = True,
    show_grads: bool = True,
    names: Mapping[Any, Any] | None = None,
    max_elements: int = 4,
    precision: int = 4,
    rankdir: str = "LR",
) -> str:
    """Graphviz DOT source for the graph behind ``output`` (a Tensor or a scalar-engine Scalar).

    Values are ellipses (name, shape, and optionally value and dL/d(value)), ops are boxes; edges run from
    inputs to ops to outputs. See :func:`draw` for where the gradients come from.
    """
    graph = draw(output, show_values=show_values, show_grads=show_grads, names=names,
                 max_elements=max_elements, precision=precision, rankdir=rankdir)  # fmt: skip
    return graph.source


def render(output: Any, path: str | Path, format: str | None = None, **kwargs: Any) -> Path:
    """Write the graph of ``output`` to ``path`` (.svg, .png, .pdf or .dot, by suffix or ``format``).

    ``kwargs`` go to :func:`draw`. Works with pip alone (grandalf + matplotlib); uses Graphviz when present.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in ("dot", "gv", "svg", "png", "pdf"):
        raise ValueError(f"render: unsupported format {fmt!r} for {path}; use .dot, .svg, .png or .pdf")
    return draw(output, **kwargs).save(path, fmt)


plot_training_curves = plot_history
